// The manual's pages (/docs, /docs/<page>): rendered by the server from man/*.md;
// this module only loads the shared top bar's behaviour (log out, notifications).
import "/static/app.js";
