#!/usr/bin/env bash
# The check step of action.yml (a composite GitHub Action), kept as a script so it can be
# run and tested outside Actions. Inputs come as environment variables:
#   OCR_FIX_FILES     transcripts: whitespace-separated paths or globs (** allowed)
#   OCR_FIX_SCANS     --scans value: auto (default) or a folder
#   OCR_FIX_FAIL_ON   --fail-on value (default: error)
#   OCR_FIX_SARIF     where the SARIF report goes (default: ocr-fix.sarif)
#   OCR_FIX_ARGS      more arguments for ocr-fix check (word-split)
#   OCR_FIX           the ocr-fix command (default: ocr-fix)
# Writes GitHub annotations to stdout, the SARIF file, and exit-code=N / sarif=PATH to
# $GITHUB_OUTPUT (when set). Exits with ocr-fix's exit code.
set -uo pipefail
shopt -s globstar nullglob

files_spec=${OCR_FIX_FILES:-"**/*.md"}
scans=${OCR_FIX_SCANS:-auto}
fail_on=${OCR_FIX_FAIL_ON:-error}
sarif=${OCR_FIX_SARIF:-ocr-fix.sarif}
read -r -a cmd <<< "${OCR_FIX:-ocr-fix}"
read -r -a extra <<< "${OCR_FIX_ARGS:-}"

files=()
for spec in $files_spec; do
  # an unmatched glob expands to nothing (nullglob); a plain path is kept as given
  if [[ $spec == *[*?[]* ]]; then files+=($spec); else files+=("$spec"); fi
done

output() { [[ -n ${GITHUB_OUTPUT:-} ]] && echo "$1" >> "$GITHUB_OUTPUT"; return 0; }

if (( ${#files[@]} == 0 )); then
  echo "ocr-fix: no transcripts match: $files_spec"
  output "exit-code=0"
  exit 0
fi

# SARIF for code scanning; its exit code is the job's.
"${cmd[@]}" check "${files[@]}" --scans "$scans" --fail-on "$fail_on" --format sarif \
  --output "$sarif" --quiet "${extra[@]}"
code=$?
output "sarif=$sarif"
output "exit-code=$code"
if (( code > 1 )); then
  exit "$code"  # a usage or input error: nothing to annotate
fi
# Annotations on the pull request (the OCR is cached by the first run).
"${cmd[@]}" check "${files[@]}" --scans "$scans" --fail-on never --format github --quiet "${extra[@]}"
exit "$code"
