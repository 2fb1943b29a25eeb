// The login page: the form GETs /login?token=...; a wrong token comes back here
// (status 401, or a redirect to /login?error=1). Say so, and keep the token out
// of the address bar and the history.
const params = new URLSearchParams(location.search);
if (params.has("error") || params.has("token")) {
  document.getElementById("login-error").hidden = false;
  document.getElementById("token").setAttribute("aria-invalid", "true");
  if (params.has("token")) history.replaceState(null, "", "/login?error=1");
}
