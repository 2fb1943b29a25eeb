% rebase("base.tpl", title="Log in", script="login", nav=None)
  <main class="login">
    <h1>devaipod</h1>
    <form id="login-form" class="card form" method="get" action="/login" data-testid="login-form">
      <input type="text" autocomplete="username" value="devaipod" hidden aria-hidden="true">
      <div class="field">
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" required autocomplete="current-password"
               autofocus spellcheck="false" data-testid="login-token" aria-describedby="token-hint">
        <span id="token-hint" class="hint">
          It is printed in the control plane's log (<code>podman logs devaipod</code>) and kept in
          the state directory's <code>web-token</code> file.
        </span>
      </div>
      <p id="login-error" class="error-text" role="alert" data-testid="login-error" hidden>That is the wrong token.</p>
      <div class="form-actions">
        <button class="primary" type="submit" data-testid="login-submit">Log in</button>
      </div>
    </form>
  </main>
