#!/bin/sh
# Claude Code hook: write the event payload (stdin) durably into the spool, and nothing else.
#
# Maildir-style: a new file in spool/tmp/, then a rename into spool/new/, so a half-written event is
# never visible to ingest. The file's name is the event id; its mtime is the receive time.
# Usage: capture.sh [--agent codex|gemini] [CMD [ARGS...]]  -- once the event is spooled, start CMD detached
# (SessionEnd runs `capture.sh /abs/path/switchboard ingest`), so it outlives Claude Code's exit.
# --agent: the event comes from Codex CLI or Gemini CLI; its file name ends with .codex / .gemini so ingest
# knows (the payload stays byte for byte what the CLI sent).
# It always exits 0 and prints nothing: a hook's output or status would change what Claude Code does.
# Every external command is a fork on the hot path (~5 ms budget): only cat and mv, mkdir on first use.

exec >/dev/null 2>&1
umask 077

if [ -n "${SWITCHBOARD_HOME:-}" ]; then
    home=$SWITCHBOARD_HOME
elif [ -n "${CLAUDE_PLUGIN_DATA:-}" ]; then
    home=$CLAUDE_PLUGIN_DATA
elif [ -e /System/Library/CoreServices/SystemVersion.plist ]; then
    # macOS: what platformdirs.user_data_dir("switchboard") says there.
    home="$HOME/Library/Application Support/switchboard"
else
    home="${XDG_DATA_HOME:-$HOME/.local/share}/switchboard"
fi
spool="$home/spool"

suffix=
if [ "${1:-}" = "--agent" ]; then
    case "${2:-}" in
        codex|gemini) suffix=".$2" ;;
    esac
    if [ $# -ge 2 ]; then shift 2; else shift $#; fi
fi

# Event ids must stay unique after ingest removes the files (raw_event.event_id is unique): a random
# UUID read by a shell builtin where the kernel offers one (no fork), else twelve random characters.
if [ -d "$spool/tmp" ] || mkdir -p "$spool/tmp" "$spool/new"; then :; else exit 0; fi
if read -r id </proc/sys/kernel/random/uuid; then
    tmp="$spool/tmp/$id$suffix"
else
    tmp=$(mktemp "$spool/tmp/XXXXXXXXXXXX$suffix") || exit 0
fi

if cat >"$tmp" && { mv -f "$tmp" "$spool/new/" || { mkdir -p "$spool/new" && mv -f "$tmp" "$spool/new/"; }; }; then
    if [ $# -gt 0 ]; then
        if command -v setsid >/dev/null; then
            setsid "$@" </dev/null >/dev/null 2>&1 &
        else
            nohup "$@" </dev/null >/dev/null 2>&1 &
        fi
    fi
else
    rm -f "$tmp"
fi
exit 0
