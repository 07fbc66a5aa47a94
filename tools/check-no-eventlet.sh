#!/bin/bash
# Fail if any *.py under notifier/ imports eventlet (Notifier is threading
# only). Parses the files with Python's ast, so comments, docstrings and
# strings that merely mention eventlet do not count; `import eventlet`,
# `import eventlet.green`, `from eventlet import ...` and
# `__import__('eventlet')` / `importlib.import_module('eventlet...')` do.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d notifier ] || { echo "check-no-eventlet: no notifier/ directory" >&2; exit 1; }

exec python3 - <<'EOF'
import ast
import pathlib
import sys

def is_eventlet(name):
    return name == 'eventlet' or name.startswith('eventlet.')

bad = []
for path in sorted(pathlib.Path('notifier').rglob('*.py')):
    try:
        tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    except SyntaxError as exc:
        bad.append(f'{path}:{exc.lineno}: syntax error: {exc.msg}')
        continue
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or '']
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, 'attr', getattr(node.func, 'id', None))
              in ('__import__', 'import_module')):
            names = [node.args[0].value]
        if any(is_eventlet(n) for n in names):
            bad.append(f'{path}:{node.lineno}: imports eventlet')

if bad:
    print('check-no-eventlet: FAILED (Notifier must not use eventlet):',
          *bad, sep='\n  ', file=sys.stderr)
    sys.exit(1)
EOF
