% rebase("base.tpl", title="New workspace", script="new", nav="/new")
  <main class="narrow">
    <h1>New workspace</h1>
    <form id="new-form" class="card form" data-testid="new-form">
      <div class="field">
        <label for="source">Source <span class="required" aria-hidden="true">*</span></label>
        <input id="source" name="source" type="text" required spellcheck="false" data-testid="field-source"
               placeholder="https://github.com/org/repo" aria-describedby="source-hint">
        <span id="source-hint" class="hint">A git repository URL, or an issue or pull request URL.</span>
      </div>
      <div class="field">
        <label for="task">Task</label>
        <textarea id="task" name="task" rows="3" data-testid="field-task" aria-describedby="task-hint"
                  placeholder="What the agent should do"></textarea>
        <span id="task-hint" class="hint">Optional for an issue or pull request URL (the default is to fix it).</span>
      </div>
      <fieldset class="field">
        <legend>Mode</legend>
        <div class="choices">
          <label><input type="radio" name="mode" value="run" id="mode-run" data-testid="mode-run" checked>
            run <span class="muted">— start the agent on the task</span></label>
          <label><input type="radio" name="mode" value="up" id="mode-up" data-testid="mode-up">
            up <span class="muted">— an idle agent, for working by hand</span></label>
        </div>
      </fieldset>
      <div class="row">
        <div class="field">
          <label for="image">Image</label>
          <input id="image" name="image" type="text" spellcheck="false" data-testid="field-image"
                 placeholder="from devcontainer.json" aria-describedby="image-hint">
          <span id="image-hint" class="hint">Optional: instead of the devcontainer's.</span>
        </div>
        <div class="field">
          <label for="name">Name</label>
          <input id="name" name="name" type="text" spellcheck="false" data-testid="field-name"
                 placeholder="derived from the source" aria-describedby="name-hint">
          <span id="name-hint" class="hint">Optional.</span>
        </div>
      </div>
      <div class="field">
        <label for="gator">Service-gator scopes</label>
        <input id="gator" name="gator" type="text" spellcheck="false" data-testid="field-gator"
               placeholder="github:org/repo:read,draft, github:org/other" aria-describedby="gator-hint">
        <span id="gator-hint" class="hint">Optional, comma separated; a scope keeps its own permissions (<code>github:org/repo:read,draft</code>). A GitHub source gets read, draft and push on its repository by itself.</span>
      </div>
      <div class="form-actions">
        <button id="create-button" class="primary" type="submit" data-testid="create-button">Create workspace</button>
        <a href="/">Cancel</a>
      </div>
    </form>

    <section id="job" class="card" data-testid="job" hidden aria-labelledby="job-title">
      <h2 id="job-title">Progress</h2>
      <pre id="job-log" class="log short" data-testid="job-log" aria-live="polite"></pre>
      <p id="job-result" data-testid="job-result" role="status"></p>
    </section>
  </main>
