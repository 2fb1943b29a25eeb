% rebase("base.tpl", title="New workspace", script="new", nav="/new")
  <main class="narrow">
    <h1>New workspace</h1>
    <form id="new-form" class="card form" data-testid="new-form">
      <div class="field">
        <label for="source">Sources <span class="required" aria-hidden="true">*</span></label>
        <textarea id="source" name="source" rows="2" required spellcheck="false" data-testid="field-source"
                  placeholder="https://github.com/org/repo" aria-describedby="source-hint"></textarea>
        <span id="source-hint" class="hint">A git repository URL, or an issue or pull request URL; several, one per line, make a workspace each (with the same task and options).</span>
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
      <details class="field more-options" data-testid="more-options" style="gap: 10px">
        <summary>More options <span class="muted">— as <code>devaipod run --help</code></span></summary>
        <div class="row">
          <div class="field">
            <label for="title">Title</label>
            <input id="title" name="title" type="text" maxlength="200" data-testid="field-title"
                   placeholder="from the issue or pull request" aria-describedby="title-hint">
            <span id="title-hint" class="hint"><code>--title</code></span>
          </div>
          <div class="field">
            <label for="network">Network</label>
            <input id="network" name="network" type="text" spellcheck="false" data-testid="field-network"
                   placeholder="[podman] network" aria-describedby="network-hint">
            <span id="network-hint" class="hint"><code>--network</code>: a podman network.</span>
          </div>
        </div>
        <div class="field">
          <label for="mcp">MCP servers</label>
          <textarea id="mcp" name="mcp" rows="2" spellcheck="false" data-testid="field-mcp"
                    placeholder="docs=http://127.0.0.1:9000/mcp" aria-describedby="mcp-hint"></textarea>
          <span id="mcp-hint" class="hint"><code>--mcp NAME=URL</code>, one per line (added to <code>[mcp]</code>).</span>
        </div>
        <div class="field">
          <label for="devcontainer_json">devcontainer.json</label>
          <textarea id="devcontainer_json" name="devcontainer_json" rows="3" spellcheck="false"
                    data-testid="field-devcontainer-json" placeholder='{"image": "quay.io/org/image:tag"}'
                    aria-describedby="devcontainer-hint"></textarea>
          <span id="devcontainer-hint" class="hint"><code>--devcontainer-json</code>: instead of the project's.</span>
        </div>
        <div class="choices checks" style="flex-direction: column; gap: 4px">
          <label><input type="checkbox" name="use_default_devcontainer" data-testid="field-use-default-devcontainer">
            ignore the project's devcontainer.json <span class="muted"><code>--use-default-devcontainer</code></span></label>
          <label><input type="checkbox" name="no_auto_approve" data-testid="field-no-auto-approve">
            the agent asks before running tools <span class="muted"><code>--no-auto-approve</code></span></label>
          <label><input type="checkbox" name="service_gator_ro" data-testid="field-gator-ro">
            the automatic GitHub grant is read-only <span class="muted"><code>-R</code></span></label>
          <label><input type="checkbox" name="trust_source" data-testid="field-trust-source">
            trust the repository's devcontainer.json <span class="muted"><code>--trust-source</code></span></label>
        </div>
        <div class="row">
          <div class="field">
            <label for="service_gator_image">Gator image</label>
            <input id="service_gator_image" name="service_gator_image" type="text" spellcheck="false"
                   data-testid="field-gator-image" placeholder="devaipod's" aria-describedby="gator-image-hint">
            <span id="gator-image-hint" class="hint"><code>--service-gator-image</code></span>
          </div>
          <div class="field">
            <label for="pull">Pull images</label>
            <select id="pull" name="pull" data-testid="field-pull" aria-describedby="pull-hint">
              <option value="">[podman] pull</option><option>missing</option><option>always</option><option>never</option>
            </select>
            <span id="pull-hint" class="hint"><code>--pull</code></span>
          </div>
        </div>
      </details>
      <div class="form-actions">
        <button id="create-button" class="primary" type="submit" data-testid="create-button">Create workspace</button>
        <a href="/">Cancel</a>
      </div>
    </form>

    <div id="jobs" data-testid="jobs"></div>
    <template id="job-template">
      <section class="card" data-testid="job" style="margin-top: 16px">
        <h2>Progress <span class="muted job-source" data-testid="job-source"></span></h2>
        <pre class="log short" data-testid="job-log" aria-live="polite"></pre>
        <p data-testid="job-result" role="status"></p>
      </section>
    </template>
  </main>
