#!/usr/bin/env python3
"""The copies of the C header's facts elsewhere in the tree agree with it.

include/melspec.h is the source of truth; this checks, by parsing (nothing here lists a field,
a status or a version number, so the check follows the header as it changes):
  - the version: CMakeLists.txt project(VERSION), MELSPEC_VERSION_MAJOR/MINOR/PATCH, every
    pyproject.toml's static version, every __version__ = "..." and PACKAGE_VERSION = (...) in
    the Python package;
  - every config struct (a typedef struct starting with uint32_t struct_size) has a ctypes mirror
    in the Python package (melspec_cqt_config -> class CqtConfig) with the same field names,
    types and order;
  - the Python Status enum equals MELSPEC_STATUS_MAP (names and values), and every Python
    module-level constant named like a header enum constant (WINDOW_HANN for MELSPEC_WINDOW_HANN)
    has its value.
Standard library only, so it runs where numpy does not. Exit 0 when all agree, 1 with one line
per disagreement otherwise.

    check_consistency.py [ROOT]        ROOT: the source tree (default: two folders up)
    check_consistency.py --self-test   drifts each fact in a scratch copy and expects a failure
"""
import ast
import glob
import os
import re
import shutil
import sys
import tempfile

# C type -> ctypes name, for the types the ABI structs use (fixed-width on purpose)
C_TO_CTYPES = {
    "uint8_t": "c_uint8", "int8_t": "c_int8", "uint16_t": "c_uint16", "int16_t": "c_int16",
    "uint32_t": "c_uint32", "int32_t": "c_int32", "uint64_t": "c_uint64", "int64_t": "c_int64",
    "float": "c_float", "double": "c_double", "size_t": "c_size_t", "char": "c_char",
    "int": "c_int", "unsigned": "c_uint",
}


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


# ---- the header ---------------------------------------------------------------------------------

def header_version(header):
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"#define\s+MELSPEC_VERSION_%s\s+(\d+)" % part, header)
        if not m:
            raise ValueError("include/melspec.h: no MELSPEC_VERSION_%s" % part)
        parts.append(int(m.group(1)))
    return tuple(parts)


def header_structs(header):
    """{struct name: [(field, ctypes type name or (type, count))]} of the config structs."""
    structs = {}
    code = strip_c_comments(header)
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", code, flags=re.S):
        fields = []
        for declaration in m.group(2).split(";"):
            declaration = " ".join(declaration.split())
            if not declaration:
                continue
            # a function pointer (melspec_allocator's alloc and free): a pointer to ctypes
            f = re.fullmatch(r".*\(\s*\*\s*(\w+)\s*\)\s*\(.*\)", declaration)
            if f:
                fields.append((f.group(1), "c_void_p"))
                continue
            d = re.fullmatch(r"((?:const\s+)?(?:unsigned\s+)?\w+(?:\s*\*)*)\s*(\w+)\s*(?:\[(\w+)\])?",
                             declaration)
            if not d:
                raise ValueError("%s: cannot read the field %r" % (m.group(1), declaration))
            c_type, name, count = d.group(1).replace(" ", ""), d.group(2), d.group(3)
            ctype = "c_void_p" if "*" in c_type else C_TO_CTYPES.get(c_type, "?" + c_type)
            fields.append((name, (ctype, int(count)) if count else ctype))
        # a config struct is one with a struct_size (the ABI rule puts it first; checked below)
        if any(name == "struct_size" for name, _ in fields):
            structs[m.group(3)] = fields
    return structs


def header_statuses(header):
    """{NAME: value} of MELSPEC_STATUS_MAP: the #define and its continuation lines."""
    lines = header.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if re.match(r"\s*#\s*define\s+MELSPEC_STATUS_MAP\(", line)), None)
    if start is None:
        raise ValueError("include/melspec.h: no MELSPEC_STATUS_MAP")
    body = []
    for line in lines[start:]:
        body.append(line)
        if not line.rstrip().endswith("\\"):
            break
    statuses = {x.group(1): int(x.group(2))
                for x in re.finditer(r"X\(\s*(\w+)\s*,\s*(-?\d+)\s*,", "\n".join(body))}
    if not statuses:
        raise ValueError("include/melspec.h: no MELSPEC_STATUS_MAP entries")
    return statuses


def header_enum_constants(header):
    constants = {}
    code = strip_c_comments(header)
    for m in re.finditer(r"typedef\s+enum\s+\w*\s*\{(.*?)\}", code, flags=re.S):
        for c in re.finditer(r"MELSPEC_(\w+)\s*=\s*(-?\d+)", m.group(1)):
            constants[c.group(1)] = int(c.group(2))
    return constants


# ---- the Python package, read with ast (nothing is imported) ------------------------------------

def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def ctypes_name(node):
    """ctypes.c_int32 / c_int32 -> 'c_int32'; ctypes.c_char * 16 -> ('c_char', 16)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return (ctypes_name(node.left), literal(node.right))
    return "?" + ast.dump(node)


def python_modules(root):
    for path in sorted(glob.glob(os.path.join(root, "python", "melspec", "*.py"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.relpath(path, root), ast.parse(f.read(), path)


def python_facts(root):
    facts = {"versions": [], "structs": {}, "statuses": None, "constants": {}}
    for path, tree in python_modules(root):
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = (node.value.elts if isinstance(node.value, ast.Tuple)
                              and isinstance(target, ast.Tuple) else [node.value])
                    for name, value in zip(names, values):
                        if not isinstance(name, ast.Name):
                            continue
                        v = literal(value)
                        if name.id == "__version__" and isinstance(v, str):
                            facts["versions"].append(("%s __version__" % path, v))
                        elif name.id == "PACKAGE_VERSION" and isinstance(node.value, ast.Tuple):
                            facts["versions"].append(("%s PACKAGE_VERSION" % path,
                                                      ".".join(str(x) for x in
                                                               literal(node.value))))
                        elif re.fullmatch(r"[A-Z][A-Z0-9_]*", name.id) and isinstance(v, int):
                            facts["constants"][name.id] = (path, v)
            elif isinstance(node, ast.ClassDef):
                bases = [ctypes_name(b) for b in node.bases]
                for item in node.body:
                    if not isinstance(item, ast.Assign):
                        continue
                    target = item.targets[0]
                    if "Structure" in bases and isinstance(target, ast.Name) and \
                            target.id == "_fields_":
                        facts["structs"][node.name] = (path, [
                            (literal(e.elts[0]), ctypes_name(e.elts[1]))
                            for e in item.value.elts])
                if node.name == "Status" and "IntEnum" in bases:
                    facts["statuses"] = (path, {
                        i.targets[0].id: literal(i.value) for i in node.body
                        if isinstance(i, ast.Assign) and isinstance(i.targets[0], ast.Name)})
    return facts


def python_class_name(struct_name):
    """melspec_cqt_config -> CqtConfig (the package's naming of the mirrors)."""
    words = struct_name[len("melspec_"):].split("_")
    return "".join(w.capitalize() for w in words)


# ---- the checks ---------------------------------------------------------------------------------

def check(root):
    problems = []
    with open(os.path.join(root, "include", "melspec.h"), encoding="utf-8") as f:
        header = f.read()

    version = ".".join(str(x) for x in header_version(header))
    copies = []
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\s*\(\s*melspec\b[^)]*?\bVERSION\s+([0-9.]+)", f.read(), flags=re.S)
    copies.append(("CMakeLists.txt project(VERSION)", m.group(1) if m else None))
    for path in sorted(glob.glob(os.path.join(root, "pyproject.toml")) +
                       glob.glob(os.path.join(root, "python", "pyproject.toml"))):
        with open(path, encoding="utf-8") as f:
            m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), flags=re.M)
        if m:  # a dynamic version comes from one of the others
            copies.append((os.path.relpath(path, root), m.group(1)))
    facts = python_facts(root)
    copies += facts["versions"]
    if not facts["versions"]:
        problems.append("python/melspec: no __version__ found")
    for where, value in copies:
        if value != version:
            problems.append("version: %s is %s, include/melspec.h is %s" % (where, value, version))

    for struct, c_fields in header_structs(header).items():
        if c_fields[0] != ("struct_size", "c_uint32"):
            problems.append("%s: the first field must be uint32_t struct_size" % struct)
        name = python_class_name(struct)
        if name not in facts["structs"]:
            problems.append("%s: no ctypes mirror (class %s) in python/melspec" % (struct, name))
            continue
        path, py_fields = facts["structs"][name]
        if py_fields != c_fields:
            for i in range(max(len(c_fields), len(py_fields))):
                c = c_fields[i] if i < len(c_fields) else None
                p = py_fields[i] if i < len(py_fields) else None
                if c != p:
                    problems.append("%s vs %s %s: field %d is %s in C, %s in Python"
                                    % (struct, path, name, i, c, p))
                    break
    if not header_structs(header):
        problems.append("include/melspec.h: no config struct (uint32_t struct_size first) found")

    statuses = header_statuses(header)
    if facts["statuses"] is None:
        problems.append("python/melspec: no Status(enum.IntEnum)")
    elif facts["statuses"][1] != statuses:
        path, py = facts["statuses"]
        for key in sorted(set(py) | set(statuses)):
            if py.get(key) != statuses.get(key):
                problems.append("status %s: %s in MELSPEC_STATUS_MAP, %s in %s Status"
                                % (key, statuses.get(key), py.get(key), path))

    enums = header_enum_constants(header)
    for name, (path, value) in sorted(facts["constants"].items()):
        if name in enums and enums[name] != value:
            problems.append("%s: MELSPEC_%s is %d in the header, %d in %s"
                            % (name, name, enums[name], value, path))
    return problems


# ---- the check of the check ---------------------------------------------------------------------

def self_test(root):
    """Each drift, made in a scratch copy, must be reported; the unchanged copy must pass."""
    def edit(relative, pattern, replacement):
        def apply(copy):  # relative may be a glob: the first file where the pattern is
            for path in sorted(glob.glob(os.path.join(copy, relative))):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                changed = re.sub(pattern, replacement, text, count=1, flags=re.S | re.M)
                if changed != text:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(changed)
                    return
            raise AssertionError("self-test: %r not found in %s" % (pattern, relative))
        return apply

    config_struct = next(iter(header_structs(open(os.path.join(root, "include", "melspec.h"),
                                                  encoding="utf-8").read())))
    drifts = {
        "header version": edit("include/melspec.h", r"(#define\s+MELSPEC_VERSION_PATCH\s+)(\d+)",
                               lambda m: m.group(1) + str(int(m.group(2)) + 1)),
        "cmake version": edit("CMakeLists.txt", r"(project\s*\(\s*melspec\s+VERSION\s+)([0-9.]+)",
                              r"\g<1>9.9.9"),
        "pyproject version": edit("pyproject.toml", r'^(version\s*=\s*")[^"]+', r"\g<1>9.9.9"),
        "__version__": edit("python/melspec/*.py", r'(__version__\s*=\s*")[^"]+',
                            r"\g<1>9.9.9"),
        "status value": edit("include/melspec.h", r"(X\(\s*ERROR_INTERNAL\s*,\s*)(-?\d+)",
                             r"\g<1>-99"),
        "new status": edit("include/melspec.h", r"(X\(\s*OK\s*,\s*0\s*,\s*\"[^\"]*\"\)\s*\\)",
                           "\\1\n    X(ERROR_NEW_ONE, -98, \"new\") \\\\"),
        "field type": edit("include/melspec.h",
                           r"(typedef struct %s \{.*?)\bdouble(\s+\w+;)" % config_struct,
                           r"\1float\2"),
        "new field": edit("include/melspec.h", r"(typedef struct %s \{.*?)(\} %s;)"
                          % (config_struct, config_struct), r"\1    int64_t new_field;\n\2"),
        # the second and third fields swapped
        "field order": edit("include/melspec.h",
                            r"(typedef struct %s \{[^\n]*\n[^\n]*\n)([^\n]*\n)([^\n]*\n)"
                            % config_struct, r"\1\3\2"),
        "python field": edit("python/melspec/*.py", r'\("n_fft",(\s*ctypes\.)', r'("nfft",\1'),
        "PACKAGE_VERSION": edit("python/melspec/*.py",
                                r"(PACKAGE_VERSION\s*=\s*\()\d+", r"\g<1>9"),
        "enum value": edit("include/melspec.h", r"(MELSPEC_PAD_EDGE\s*=\s*)2", r"\g<1>7"),
    }
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        def fresh_copy():
            copy = os.path.join(scratch, "tree")
            shutil.rmtree(copy, ignore_errors=True)
            for relative in ["CMakeLists.txt", "pyproject.toml", "include", "python"]:
                source = os.path.join(root, relative)
                if os.path.isdir(source):
                    shutil.copytree(source, os.path.join(copy, relative),
                                    ignore=shutil.ignore_patterns("__pycache__", "build*"))
                else:
                    os.makedirs(copy, exist_ok=True)
                    shutil.copy(source, os.path.join(copy, relative))
            return copy

        clean = check(fresh_copy())
        if clean:
            failures.append("the unchanged tree fails: %s" % "; ".join(clean))
        for what, drift in drifts.items():
            copy = fresh_copy()
            drift(copy)
            problems = check(copy)
            print("%-18s -> %s" % (what, problems[0] if problems else "NOT DETECTED"))
            if not problems:
                failures.append(what)
    for failure in failures:
        print("self-test: not detected: %s" % failure)
    return 1 if failures else 0


def main(argv):
    default_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if argv[1:2] == ["--self-test"]:
        return self_test(argv[2] if len(argv) > 2 else default_root)
    root = argv[1] if len(argv) > 1 else default_root
    problems = check(root)
    for problem in problems:
        print(problem)
    if not problems:
        print("versions, config mirrors, status codes and enum constants agree with "
              "include/melspec.h")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
