%# The frame of every page: its head, and (but on the login page) the top bar.
%# A page says `% rebase("base.tpl", title=..., script=..., nav=...)`; nav is the
%# path of its own link in the bar (for aria-current), "" for none, None for no bar.
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{title}} · devaipod</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/app.css">
  <script type="module" src="/static/{{script}}.js"></script>
</head>
<body>
% if nav is not None:
  <header class="topbar">
    <a class="brand" href="/">devaipod</a>
    <nav aria-label="Main">
% for href, label in (("/", "Workspaces"), ("/new", "New workspace"), ("/docs", "Docs")):
      <a href="{{href}}"{{!' aria-current="page"' if href == nav else ""}}>{{label}}</a>
% end
    </nav>
    <button type="button" id="notify-button" class="notify" data-testid="notify-button" hidden>Notify me</button>
    <button type="button" id="logout-button" class="logout" data-testid="logout-button">Log out</button>
  </header>
% end
{{!base.rstrip()}}
</body>
</html>
