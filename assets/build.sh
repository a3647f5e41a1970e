#!/bin/sh
# Rebuild civic's committed front-end files in ../static from the pinned npm
# packages in this folder. Nothing here runs when the app runs.
set -eu

cd "$(dirname "$0")"
static=../static

npm ci --no-audit --no-fund --ignore-scripts

mkdir -p "$static/css" "$static/js" "$static/images"

npx --no-install sass \
  --no-source-map \
  --style=compressed \
  --load-path=node_modules \
  civic.scss "$static/css/civic.css"

cp node_modules/htmx.org/dist/htmx.min.js "$static/js/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$static/js/htmx.LICENSE"

# GOV.UK Frontend's font files and images (the crown, the crest, GOV.UK
# favicons) are not copied: civic uses Arial and its own favicon.

for file in "$static/css/civic.css" "$static/js/htmx.min.js" "$static/js/civic.js"; do
  printf '%-28s %7d bytes, %6d gzipped\n' "${file#../}" "$(wc -c <"$file")" "$(gzip -9c "$file" | wc -c)"
done
