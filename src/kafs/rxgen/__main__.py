"""``python -m kafs.rxgen in.xg [-o out.py]`` -- compile an .xg file to Python."""

from __future__ import annotations

import argparse
import os
import sys

from . import CompileError, compile_file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="kafs-rxgen", description="Compile an OpenAFS .xg file to Python.")
    ap.add_argument("input", help="the .xg file")
    ap.add_argument("-o", "--output", help="output .py file (default: stdout)")
    ap.add_argument("-I", dest="include", action="append", default=[], help="include directory")
    ap.add_argument("-D", dest="define", action="append", default=[], help="NAME[=VALUE] macro")
    ap.add_argument("--package", help="Python package of the output; sibling .xg includes "
                    "become imports from <package>.<module>")
    args = ap.parse_args(argv)
    defines = {}
    for d in args.define:
        name, _, value = d.partition("=")
        defines[name] = value or "1"
    try:
        text = compile_file(args.input, package=args.package, include_path=args.include,
                            defines=defines)
    except CompileError as e:
        print(f"kafs-rxgen: {e}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"kafs-rxgen: {args.input}: definitions nested too deeply", file=sys.stderr)
        return 1
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
