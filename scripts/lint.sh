#!/usr/bin/env bash
# lint.sh -- the static checks of the style guide (STYLE.md section 7), each
# of which fails on any finding:
#
#   - clang-format  --dry-run --Werror on every tracked .c and .h file, with
#                   the repository's .clang-format;
#   - cppcheck      warning, portability and performance checks over every
#                   folder of C code. A finding that is not a defect is
#                   kept quiet where it stands, with a comment saying why
#                   ("cppcheck-suppress ID");
#   - shellcheck    warnings and errors in every tracked shell script (the
#                   test scripts, scripts/, ./check, ./demo, .ci/run).
#
#   scripts/lint.sh          all three (what ./check runs)
#   scripts/lint.sh --fix    clang-format -i the tracked files first
#
# Exit status: 0 when all are clean, 1 on a finding, 2 on bad usage.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here" || exit 1
fix=0
case "${1:-}" in
'') ;;
--fix) fix=1 ;;
*) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac

mapfile -t files < <(git ls-files '*.c' '*.h')
if ((${#files[@]} == 0)); then
    echo "lint.sh: no tracked C files (is this a git clone?)" >&2
    exit 1
fi
status=0

if ((fix)); then
    clang-format -i "${files[@]}"
fi
if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "lint.sh: clang-format: the files above are not formatted (scripts/lint.sh --fix)" >&2
    status=1
fi

dirs=(engine recovery fsck cli fault-injection bench tests include)
incs=()
for d in "${dirs[@]}"; do incs+=(-I "$d"); done
out=$(cppcheck --quiet --std=c11 -D_GNU_SOURCE --inline-suppr --error-exitcode=1 \
    --enable=warning,portability,performance "${incs[@]}" "${dirs[@]}" 2>&1)
rc=$?
if ((rc != 0)) || [[ -n "$out" ]]; then
    printf '%s\n' "$out" >&2
    echo "lint.sh: cppcheck: the findings above" >&2
    status=1
fi

mapfile -t scripts < <(git ls-files '*.sh' check demo .ci/run)
if ! shellcheck -S warning "${scripts[@]}"; then
    echo "lint.sh: shellcheck: the findings above" >&2
    status=1
fi

if ((status == 0)); then
    echo "lint.sh: clang-format, cppcheck and shellcheck clean" \
        "(${#files[@]} C files, ${#scripts[@]} scripts)" >&2
fi
exit "$status"
