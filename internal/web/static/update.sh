#!/usr/bin/env bash
# Refreshes the Bootstrap Italia files embedded in the broker (see README.md).
# Usage: internal/web/static/update.sh [VERSION]   (needs npm; Node is never needed at run time)
set -euo pipefail
version="${1:-2.18.3}"
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "bootstrap-italia@$version" >/dev/null
dist=node_modules/bootstrap-italia/dist
# The video player's icon font is inlined as a data: URL, which font-src 'self' refuses (and
# no page plays video): drop that @font-face.
node -e '
const fs = require("fs");
const css = fs.readFileSync(process.argv[1], "utf8");
const out = css.replace(/@font-face\{font-family:VideoJS;[^}]*\}/g, "");
if (out === css) { console.error("VideoJS @font-face not found: check the CSS by hand"); process.exit(1); }
fs.writeFileSync(process.argv[2], out);
' "$dist/css/bootstrap-italia.min.css" "$here/css/bootstrap-italia.min.css"
for w in 300 regular 600 700; do
  cp "$dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-$w.woff2" "$here/fonts/"
done
cp "$dist/fonts/Titillium_Web/OFL.txt" "$here/fonts/OFL-Titillium_Web.txt"
cp "$dist/fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff2" "$here/fonts/"
cp "$dist/fonts/Roboto_Mono/LICENSE.txt" "$here/fonts/LICENSE-Roboto_Mono.txt"
cp node_modules/bootstrap-italia/LICENSE "$here/LICENSE-bootstrap-italia.txt"
# Only the icons the templates use (grep the templates for "#it-" when adding one).
icons="it-user it-card it-key it-error it-warning-circle it-info-circle it-check-circle it-arrow-right it-expand it-lock it-help-circle"
node -e '
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
const out = process.argv.slice(2).map(id => {
  const m = src.match(new RegExp("<symbol id=\"" + id + "\"[^>]*>.*?</symbol>", "s"));
  if (!m) { console.error("icon not found: " + id); process.exit(1); }
  return m[0];
});
process.stdout.write("<svg xmlns=\"http://www.w3.org/2000/svg\">" + out.join("") + "</svg>\n");
' "$dist/svg/sprites.svg" $icons > "$here/svg/sprites.svg"
echo "bootstrap-italia $version copied into $here; update the version in README.md and run go test ./internal/web/"
