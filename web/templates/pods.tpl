% rebase("base.tpl", title="Workspaces", script="pods", nav="/")
  <main>
    <div class="page-head">
      <h1>Workspaces</h1>
      <button type="button" id="prune-button" data-testid="prune-button"
              title="Delete the workspaces marked done">Prune…</button>
      <a id="new-link" class="button primary" href="/new" data-testid="new-link">New workspace</a>
    </div>
    <div class="pods-tools" role="search" aria-label="Narrow and order the workspaces">
      <input id="pods-search" type="search" spellcheck="false" autocomplete="off" data-testid="pods-search"
             aria-label="Search the workspaces" title="repo:TEXT task:TEXT state:STATE and free text (name, title, repo, task), all of them must match"
             placeholder="Search: repo:owner/repo task:fix state:idle or any text">
      <label for="pods-sort">Sort</label>
      <select id="pods-sort" data-testid="pods-sort"></select>
      <span id="connection" class="connection" role="status" data-testid="connection" hidden>disconnected — retrying</span>
      <span id="pods-count" class="muted" data-testid="pods-count"></span>
    </div>
    <div id="pods-chips" class="chips" role="group" aria-label="Show the workspaces whose agent is" data-testid="pods-chips"></div>
    <div class="table-wrap">
      <table id="pods-table" data-testid="pods-table" aria-describedby="pods-caption">
        <caption id="pods-caption" class="visually-hidden">Workspaces, refreshed every two seconds</caption>
        <thead>
          <tr>
            <th scope="col" data-sort="name"><button type="button" class="link" data-testid="sort-name">Name</button></th>
            <th scope="col" data-sort="state"><button type="button" class="link" data-testid="sort-state">Agent</button></th>
            <th scope="col">Repo</th>
            <th scope="col">Title or task</th>
            <th scope="col">Ports</th>
            <th scope="col" data-sort="created"><button type="button" class="link" data-testid="sort-created">Age</button></th>
            <th scope="col" data-sort="activity"><button type="button" class="link" data-testid="sort-activity">Last activity</button></th>
            <th scope="col">Last message</th>
          </tr>
        </thead>
        <tbody id="pods-body"></tbody>
      </table>
      <p id="pods-loading" class="empty" data-testid="pods-loading">Loading…</p>
      <p id="pods-none" class="empty" data-testid="pods-none" hidden>
        No workspace matches. <button type="button" id="pods-clear" class="link" data-testid="pods-clear">Show them all</button>
      </p>
      <p id="pods-empty" class="empty" data-testid="pods-empty" hidden>
        No workspaces yet. <a href="/new">Create one</a> from a git repository, an issue or a pull request.
      </p>
    </div>
    <dialog id="prune-dialog" class="confirm" data-testid="prune-dialog" aria-labelledby="prune-title">
      <form method="dialog">
        <h2 id="prune-title">Prune</h2>
        <p id="prune-none" data-testid="prune-none" hidden>No workspace is marked done: there is nothing to prune.</p>
        <div id="prune-some" hidden>
          <p>These workspaces are marked done. Delete them, with their containers, volumes and secrets?</p>
          <ul id="prune-list" data-testid="prune-list"></ul>
        </div>
        <div class="actions">
          <button type="submit" value="cancel" id="prune-cancel" data-testid="prune-cancel">Cancel</button>
          <button type="submit" value="prune" id="prune-confirm" class="danger" data-testid="prune-confirm">Delete</button>
        </div>
      </form>
    </dialog>
  </main>
