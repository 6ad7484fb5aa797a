"""apt's view of the world: sources.list parsing, `apt-get update` (fetch + signature checks) and the
package lists it leaves behind (STATE/apt/lists.json), used by install/policy/madison."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urlparse

from . import catalog, repos, state


@dataclass
class Source:
    file: str
    number: int
    kind: str
    uri: str
    suite: str
    comps: list[str]
    opts: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.uri} {self.suite}"


def _parse_line(file: str, number: int, line: str) -> Source:
    opts: dict[str, str] = {}
    m = re.match(r"^(deb|deb-src)\s+(\[[^\]]*\]\s+)?(\S+)\s*(\S+)?\s*(.*)$", line)
    if not m or not m.group(4):
        state.fail(
            f"E: Malformed entry {number} in list file {file} (Suite)\n"
            "E: The list of sources could not be read.",
            100,
        )
    for opt in (m.group(2) or "").strip(" []\t").split():
        key, _, value = opt.partition("=")
        opts[key] = value
    suite, comps = m.group(4), m.group(5).split()
    if suite.endswith("/") and comps:
        state.fail(
            f"E: Malformed entry {number} in list file {file} (absolute Suite Component)\n"
            "E: The list of sources could not be read.",
            100,
        )
    if not suite.endswith("/") and not comps:
        state.fail(
            f"E: Malformed entry {number} in list file {file} (Component)\n"
            "E: The list of sources could not be read.",
            100,
        )
    return Source(file, number, m.group(1), m.group(3), suite, comps, opts)


def sources() -> list[Source]:
    """Every enabled `deb` source: one-line `.list` files and deb822 `.sources` files."""
    listed = sorted(glob.glob(state.root("/etc/apt/sources.list.d/*.list")))
    out: list[Source] = []
    for path in [state.root("/etc/apt/sources.list"), *listed]:
        display = "/" + os.path.relpath(path, state.ROOT)
        number = 0
        for raw in _text(path).splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                number += 1
                out.append(_parse_line(display, number, line))
    for path in sorted(glob.glob(state.root("/etc/apt/sources.list.d/*.sources"))):
        out += _deb822("/" + os.path.relpath(path, state.ROOT), _text(path))
    return [s for s in out if s.kind == "deb"]


def _text(real_path: str) -> str:
    """A file found by globbing under ROOT (already a real path)."""
    try:
        with open(real_path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _deb822(file: str, text: str) -> list[Source]:
    out = []
    stanzas = [s for s in re.split(r"\n\s*\n", "\n".join(
        line for line in text.splitlines() if not line.startswith("#"))) if s.strip()]
    for number, stanza in enumerate(stanzas, 1):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()  # a continuation (an inline Signed-By key block)
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if not fields.get("uris") or not fields.get("suites") or not fields.get("types"):
            state.fail(f"E: Malformed stanza {number} in source list {file} (type)\n"
                       "E: The list of sources could not be read.", 100)
        opts = {"signed-by": fields["signed-by"]} if "signed-by" in fields else {}
        if fields.get("trusted", "").lower() == "yes":
            opts["trusted"] = "yes"
        comps = fields.get("components", "").split()
        for kind in fields["types"].split():
            for uri in fields["uris"].split():
                for suite in fields["suites"].split():
                    if suite.endswith("/") == bool(comps):
                        state.fail(f"E: Malformed stanza {number} in source list {file} (Suite/Components)\n"
                                   "E: The list of sources could not be read.", 100)
                    out.append(Source(file, number, kind, uri, suite, comps, dict(opts)))
    return out


def _keys_for(src: Source) -> tuple[set[str], list[str]]:
    """Key ids apt would use for this source, plus warnings about keyrings it ignores."""
    signed_by = src.opts.get("signed-by")
    files = (
        [signed_by]
        if signed_by
        else [*glob.glob(state.root("/etc/apt/trusted.gpg.d/*")), state.root("/etc/apt/trusted.gpg")]
    )
    found, warnings = set(), []
    if signed_by and "BEGIN PGP" in signed_by:  # deb822 allows the key itself in Signed-By
        return {k for k, _ in repos.keys_in(signed_by.encode())}, []
    for name in files:
        real = state.root(name) if name.startswith("/") else name
        if not os.path.isfile(real):
            continue
        with open(real, "rb") as f:
            keys = repos.keys_in(f.read())
        if keys and keys[0][1] and not real.endswith(".asc"):
            warnings.append(
                f"W: The key(s) in the keyring {name} are ignored as the file has an unsupported filetype."
            )
            continue
        found.update(k for k, _ in keys)
    return found, warnings


def classify(src: Source) -> repos.Repo | str:
    """The repository behind a source line, or the error apt prints for it."""
    node = state.node()
    uri = src.uri if src.uri.endswith("/") else src.uri + "/"
    host = urlparse(src.uri).hostname or src.uri
    kube = repos.kube_repo(uri, "deb")
    if kube:
        minor = kube[1]
        if src.suite != "/" or minor < repos.PKGS_MIN_MINOR or not repos.kube_versions(minor, "deb", False):
            return f"The repository '{src.label} Release' does not have a Release file."
        return repos.Repo(
            f"{uri}{src.suite}", uri, "kubernetes", "k8s", repos.kube_versions(minor, "deb", False)
        )
    if uri == f"{repos.LEGACY}/apt/" or uri == f"{repos.LEGACY.replace('https', 'http')}/apt/":
        if src.suite != "kubernetes-xenial" or "main" not in src.comps:
            return f"The repository '{src.label} Release' does not have a Release file."
        return repos.Repo(f"{uri}{src.suite}", uri, "legacy", "aliyun-legacy", repos.legacy_versions("deb"))
    for base in repos.DOCKER_BASES:
        if uri.startswith(base + "/"):
            if (
                uri != f"{base}/{node.get('id')}/"
                or src.suite != node.get("codename")
                or "stable" not in src.comps
            ):
                return f"The repository '{src.label} Release' does not have a Release file."
            return repos.Repo(f"{uri}{src.suite}", uri, "docker", "docker", repos.docker_versions("deb"))
    if repos.is_distro_url(src.uri):
        return repos.Repo(f"{uri}{src.suite}", uri, "distro")
    return f"Failed to fetch {uri}dists/{src.suite}/InRelease  Could not resolve '{host}'"


def verify(src: Source, repo: repos.Repo) -> list[str]:
    """apt's signature check: errors (empty when the repository is trusted)."""
    if not repo.signer or src.opts.get("trusted") == "yes":
        return []
    keys, warnings = _keys_for(src)
    if repo.signer in keys:
        return warnings
    if repo.signer == "k8s" and "k8s-expired" in keys:
        problem = "EXPKEYSIG 234654DA9A296436 isv:kubernetes OBS Project <isv:kubernetes@build.opensuse.org>"
    else:
        problem = "NO_PUBKEY 234654DA9A296436"
    return [
        *warnings,
        f"W: GPG error: {src.label} InRelease: The following signatures couldn't be verified "
        f"because the public key is not available: {problem}",
        f"E: The repository '{src.label} InRelease' is not signed.",
    ]


def update(quiet: bool) -> int:
    lists, errors = [], []
    for number, src in enumerate(sources(), 1):
        repo = classify(src)
        if isinstance(repo, str):
            errors.append(f"E: {repo}")
            print(f"Err:{number} {src.label} InRelease")
            continue
        problems = verify(src, repo)
        if any(p.startswith("E:") for p in problems):
            errors += problems
            print(f"Get:{number} {src.label} InRelease")
            continue
        errors += problems
        if not quiet:
            print(f"Hit:{number} {src.label} InRelease")
        lists.append(asdict(repo))
    state.save("apt/lists.json", lists)
    print("Reading package lists...")
    for line in errors:
        state.err(line)
    return 100 if any(e.startswith("E:") for e in errors) else 0


def available() -> dict[str, dict[str, str]]:
    """package -> {version: repo label}, from the last update plus the distro's own packages."""
    node = state.node()
    out: dict[str, dict[str, str]] = {}
    for name in catalog.PACKAGES:
        if catalog.in_distro(name, "debian"):
            out.setdefault(name, {})[catalog.distro_version(name, node)] = "distro"
    for repo in state.load("apt/lists.json", []):
        for name, versions in repo["packages"].items():
            for version in versions:
                out.setdefault(name, {})[version] = repo["kind"]
    return out
