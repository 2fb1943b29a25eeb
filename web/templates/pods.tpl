% rebase("base.tpl", title="Workspaces", script="pods", nav="/")
  <main>
    <div class="page-head">
      <h1>Workspaces</h1>
      <a id="new-link" class="button primary" href="/new" data-testid="new-link">New workspace</a>
    </div>
    <div class="table-wrap">
      <table id="pods-table" data-testid="pods-table" aria-describedby="pods-caption">
        <caption id="pods-caption" class="visually-hidden">Workspaces, refreshed every two seconds</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Agent</th>
            <th scope="col">Repo</th>
            <th scope="col">Task</th>
            <th scope="col">Age</th>
            <th scope="col">Last activity</th>
            <th scope="col">Last message</th>
          </tr>
        </thead>
        <tbody id="pods-body"></tbody>
      </table>
      <p id="pods-loading" class="empty" data-testid="pods-loading">Loading…</p>
      <p id="pods-empty" class="empty" data-testid="pods-empty" hidden>
        No workspaces yet. <a href="/new">Create one</a> from a git repository, an issue or a pull request.
      </p>
    </div>
  </main>
