% rebase("base.tpl", title="Workspace", script="pod", nav="")
  <main>
    <nav id="switcher" class="switcher" aria-label="Go through the workspaces" data-testid="switcher">
      <a class="button" href="/" data-testid="switch-list" title="All the workspaces">All</a>
      <button type="button" id="switch-prev" data-testid="switch-prev" title="The previous workspace (key [)" disabled>‹ Previous</button>
      <span id="switch-dot" class="dot" data-testid="switch-dot"></span>
      <select id="switch-select" data-testid="switch-select" aria-label="Go to the workspace"></select>
      <button type="button" id="switch-next" data-testid="switch-next" title="The next workspace (key ])" disabled>Next ›</button>
      <span id="switch-pos" class="muted" data-testid="switch-pos"></span>
      <button type="button" id="switch-done" class="primary" data-testid="switch-done"
              title="Mark this workspace done (as devaipod done), then go to the next">Done, next ›</button>
      <span class="muted"><kbd>[</kbd> <kbd>]</kbd> previous, next</span>
    </nav>
    <section class="pod-head" aria-labelledby="pod-name">
      <div>
        <h1><span id="pod-name" data-testid="pod-name"></span>
          <span id="pod-state" class="badge badge-unknown" data-testid="state-badge">…</span></h1>
        <div class="pod-meta">
          <span>repo <b id="pod-repo" data-testid="pod-repo"></b></span>
          <span>mode <b id="pod-mode" data-testid="pod-mode"></b></span>
          <span>pod <b id="pod-status" data-testid="pod-status"></b></span>
          <span>created <b id="pod-created" data-testid="pod-created"></b></span>
          <span>last activity <b id="pod-activity" data-testid="pod-activity"></b></span>
          <span>containers <b id="pod-containers" data-testid="pod-containers"></b></span>
          <span>limits <b id="pod-limits" data-testid="pod-limits"></b></span>
          <span>egress <b id="pod-egress" data-testid="pod-egress"></b></span>
        </div>
        <form id="gator" class="pod-gator" data-testid="gator" hidden>
          <span>GitHub access <b id="gator-grants" data-testid="gator-grants"></b></span>
          <input id="gator-add" name="add" type="text" spellcheck="false" data-testid="gator-add"
                 placeholder="github:owner/repo:read,draft" aria-label="Grant GitHub access">
          <button type="submit" data-testid="gator-grant">Grant</button>
          <button type="button" id="gator-set" data-testid="gator-set" title="The grants become the scopes typed here, and no other">Replace all</button>
          <select id="gator-revoke-choice" data-testid="gator-revoke-choice" aria-label="A grant to take back"></select>
          <button type="button" id="gator-revoke" data-testid="gator-revoke" title="Take the chosen grant back: the gator refuses the next call that needed it">Revoke</button>
          <a class="help-link" href="/docs/devaipod-gator.1" data-testid="help-gator" title="GitHub access: the manual">help</a>
        </form>
        <div id="pod-update" class="pod-update" data-testid="pod-update" hidden>
          <span class="badge badge-starting" data-testid="update-badge">update available</span>
          <span id="update-reason" class="muted" data-testid="update-reason"></span>
          <button type="button" id="action-recreate" data-testid="action-recreate"
                  title="devaipod rebuild: new containers, the volumes (and the agent's commits) kept">Recreate</button>
        </div>
        <div id="rebuild-job" data-testid="rebuild-job" hidden>
          <pre class="log short" data-testid="rebuild-log" aria-live="polite"
               style="white-space: pre-wrap; overflow-wrap: anywhere; max-width: 60rem"></pre>
          <p data-testid="rebuild-result" role="status"></p>
        </div>
        <div class="pod-title">
          <span id="pod-title" data-testid="pod-title"></span>
          <button type="button" id="title-edit" class="link" data-testid="title-edit">Edit title</button>
        </div>
        <form id="title-form" class="pod-title" data-testid="title-form" hidden>
          <input id="title-input" name="title" type="text" maxlength="200" spellcheck="false"
                 data-testid="title-input" aria-label="Title of the workspace" placeholder="A title (empty: none)">
          <button type="submit" class="primary" data-testid="title-save">Save</button>
          <button type="button" id="title-cancel" data-testid="title-cancel">Cancel</button>
        </form>
        <div id="pod-task" class="pod-task" data-testid="pod-task"></div>
        <div id="pod-message" class="muted" data-testid="pod-message"></div>
      </div>
      <div class="actions" role="group" aria-label="Workspace actions">
        <button type="button" id="action-stop" data-action="stop" data-testid="action-stop">Stop</button>
        <button type="button" id="action-start" data-action="start" data-testid="action-start">Start</button>
        <button type="button" id="action-done" data-action="done" data-testid="action-done">Mark done</button>
        <button type="button" id="action-undone" data-action="undone" data-testid="action-undone" hidden>Undo done</button>
        <button type="button" id="action-delete" data-action="delete" data-testid="action-delete" class="danger">Delete</button>
        <a class="help-link" href="/docs/devaipod-web.1" data-testid="help-pod" title="This page: the manual">help</a>
      </div>
    </section>

    <div class="tabs" role="tablist" aria-label="Workspace views">
      <button type="button" role="tab" id="tab-agent" data-testid="tab-agent" data-tab="agent" aria-controls="panel-agent" aria-selected="true">Agent</button>
      <button type="button" role="tab" id="tab-terminal" data-testid="tab-terminal" data-tab="terminal" aria-controls="panel-terminal" aria-selected="false" tabindex="-1">Terminal</button>
      <button type="button" role="tab" id="tab-review" data-testid="tab-review" data-tab="review" aria-controls="panel-review" aria-selected="false" tabindex="-1">Review</button>
      <button type="button" role="tab" id="tab-logs" data-testid="tab-logs" data-tab="logs" aria-controls="panel-logs" aria-selected="false" tabindex="-1">Logs</button>
      <button type="button" role="tab" id="tab-audit" data-testid="tab-audit" data-tab="audit" aria-controls="panel-audit" aria-selected="false" tabindex="-1">Audit</button>
    </div>

    <section id="panel-agent" class="tabpanel" role="tabpanel" aria-labelledby="tab-agent" data-testid="panel-agent">
      <div class="toolbar">
        <span id="agent-status" class="muted" data-testid="agent-status" role="status"></span>
        <span class="spacer"></span>
        <button type="button" id="agent-reload" data-testid="agent-reload">Reload</button>
      </div>
      <!-- what the agent writes shows in here: no navigating this page away, no clipboard reads -->
      <iframe id="agent-frame" class="agent-frame" data-testid="agent-frame" title="The agent's web UI"
              sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-downloads allow-modals"
              allow="clipboard-write"></iframe>
    </section>

    <section id="panel-terminal" class="tabpanel" role="tabpanel" aria-labelledby="tab-terminal" data-testid="panel-terminal" hidden>
      <div class="toolbar">
        <label for="terminal-kind">Terminal</label>
        <select id="terminal-kind" data-testid="terminal-kind">
          <option value="agent">agent (OpenCode's TUI and a shell)</option>
          <option value="workspace">workspace (a shell)</option>
        </select>
        <span id="terminal-status" class="muted" data-testid="terminal-status" role="status"></span>
        <button type="button" id="terminal-reconnect" class="link" data-testid="terminal-reconnect" hidden>reconnect</button>
        <span class="spacer"></span>
        <a class="help-link" href="/docs/devaipod-attach.1" data-testid="help-terminal" title="Terminals: the manual">help</a>
      </div>
      <div id="terminal" class="terminal-box" data-testid="terminal"></div>
    </section>

    <section id="panel-review" class="tabpanel" role="tabpanel" aria-labelledby="tab-review" data-testid="panel-review" hidden>
      <div class="toolbar">
        <span id="review-summary" class="muted" data-testid="review-summary"></span>
        <span class="spacer"></span>
        <button type="button" id="review-refresh" data-testid="review-refresh">Refresh</button>
        <button type="button" id="merge-button" class="primary" data-testid="merge-button" disabled>Merge into workspace</button>
        <button type="button" id="reject-button" class="danger" data-testid="reject-button" disabled>Reject</button>
        <a class="help-link" href="/docs/devaipod-review.1" data-testid="help-review" title="Review: the manual">help</a>
      </div>
      <p id="review-result" data-testid="review-result" role="status" hidden></p>
      <section id="review-pending" class="review-comments" data-testid="review-pending" hidden></section>
      <section id="review-sent" class="review-comments" data-testid="review-sent" hidden></section>
      <p id="review-empty" class="empty" data-testid="review-empty" hidden>There is nothing to review: the agent has no commits that the workspace lacks.</p>
      <h2 id="review-commits-title" hidden>Commits</h2>
      <ul id="review-commits" class="commits" data-testid="review-commits" aria-labelledby="review-commits-title"></ul>
      <h2 id="review-files-title" hidden>Files</h2>
      <div id="review-files" data-testid="review-files" aria-labelledby="review-files-title"></div>
      <section id="review-history" data-testid="review-history" hidden></section>
    </section>

    <section id="panel-logs" class="tabpanel" role="tabpanel" aria-labelledby="tab-logs" data-testid="panel-logs" hidden>
      <div class="toolbar">
        <label for="logs-container">Container</label>
        <select id="logs-container" data-testid="logs-container">
          <option value="agent">agent</option>
          <option value="workspace">workspace</option>
          <option value="api">api</option>
          <option value="gator" hidden>gator</option>
          <option value="worker" hidden>worker</option>
        </select>
        <span id="logs-status" class="muted" data-testid="logs-status" role="status"></span>
        <button type="button" id="logs-reconnect" class="link" data-testid="logs-reconnect" hidden>reconnect</button>
        <span class="spacer"></span>
        <a class="help-link" href="/docs/devaipod-logs.1" data-testid="help-logs" title="Logs: the manual">help</a>
      </div>
      <pre id="logs-pre" class="log" data-testid="logs-pre" tabindex="0" aria-label="Container log"></pre>
    </section>

    <section id="panel-audit" class="tabpanel" role="tabpanel" aria-labelledby="tab-audit" data-testid="panel-audit" hidden>
      <div class="toolbar">
        <span id="audit-status" class="muted" data-testid="audit-status" role="status"></span>
        <span class="spacer"></span>
        <button type="button" id="audit-refresh" data-testid="audit-refresh">Refresh</button>
        <a class="help-link" href="/docs/devaipod-audit.1" data-testid="help-audit" title="The audit trail: the manual">help</a>
      </div>
      <table class="audit" data-testid="audit-table">
        <thead><tr><th>time</th><th>kind</th><th>by</th><th>what</th></tr></thead>
        <tbody id="audit-rows"></tbody>
      </table>
    </section>
  </main>
