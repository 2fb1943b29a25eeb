% rebase("base.tpl", title=title, script="docs", nav="/docs")
  <main class="docs">
    <nav class="doc-crumbs" aria-label="Breadcrumb"><a href="/docs">Manual</a>{{" / " + title if title != "Manual" else ""}}</nav>
    <article id="doc" class="doc" data-testid="doc" data-page="{{page}}">
{{!content}}
    </article>
  </main>
