"""yum (EL7 wording) / dnf (EL8+, also when called as yum), rpm queries and the config-manager --add-repo."""

from __future__ import annotations

import configparser
import fnmatch
import functools
import glob
import os
import re
from dataclasses import dataclass

from . import catalog, pkgdb, repos, resolve, state, vercmp


@dataclass
class YumRepo:
    id: str
    file: str
    baseurl: str
    enabled: bool
    gpgcheck: bool
    gpgkeys: list[str]
    exclude: list[str]
    repo_gpgcheck: bool


def _dnf() -> bool:
    return int(state.node().get("el", 9)) >= 8


def _expand(text: str) -> str:
    return text.replace("$releasever", str(state.node().get("el", 9))).replace("$basearch", "x86_64")


def configured() -> list[YumRepo]:
    out = []
    for path in sorted(glob.glob(state.root("/etc/yum.repos.d/*.repo"))):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path)
        except configparser.Error as exc:
            state.fail(f"Error: Parsing file '{path}' failed: {exc}", 1)
        for sect in parser.sections():
            get = parser[sect].get
            out.append(
                YumRepo(
                    sect,
                    path,
                    _expand(
                        (get("baseurl") or get("mirrorlist") or "").split()[0]
                        if (get("baseurl") or get("mirrorlist"))
                        else ""
                    ),
                    get("enabled", "1") in ("1", "true", "True"),
                    get("gpgcheck", "1") in ("1", "true", "True"),
                    _expand(get("gpgkey", "")).split(),
                    re.split(r"[\s,]+", get("exclude", "").strip()) if get("exclude") else [],
                    get("repo_gpgcheck", "0") in ("1", "true", "True"),
                )
            )
    return out


def classify(repo: YumRepo) -> repos.Repo | str:
    url = repo.baseurl if repo.baseurl.endswith("/") else repo.baseurl + "/"
    kube = repos.kube_repo(url, "rpm")
    if kube:
        versions = repos.kube_versions(kube[1], "rpm", False) if kube[1] >= repos.PKGS_MIN_MINOR else {}
        return (
            repos.Repo(repo.id, url, "kubernetes", "k8s", versions)
            if versions
            else f"404 for {url}repodata/repomd.xml"
        )
    if url in (f"{repos.LEGACY}/yum/repos/kubernetes-el7-x86_64/",):
        return repos.Repo(repo.id, url, "legacy", "aliyun-legacy", repos.legacy_versions("rpm"))
    for base in repos.DOCKER_BASES:
        if url.startswith(base + "/"):
            el = state.node().get("el", 9)
            if not re.fullmatch(re.escape(base) + rf"/(centos|rhel)/{el}/x86_64/stable/", url):
                return f"404 for {url}repodata/repomd.xml"
            return repos.Repo(repo.id, url, "docker", "docker", repos.docker_versions("rpm"))
    if repos.is_distro_url(repo.baseurl):
        return repos.Repo(repo.id, url, "distro")
    host = re.sub(r"^\w+://([^/]+).*$", r"\1", repo.baseurl)
    return (
        f"Curl error (6): Couldn't resolve host name for {url}repodata/repomd.xml "
        f"[Could not resolve host: {host}]"
    )


def _key_ok(repo: YumRepo, signer: str) -> bool:
    for url in repo.gpgkeys:
        body = state.read(url[7:]) if url.startswith("file://") else repos.fetch(url)
        key = repos.key_in(body.encode()) if body else None
        if key and key[0] == signer:
            return True
    return False


def load_repos() -> list[tuple[YumRepo, repos.Repo]]:
    """Every enabled repository's metadata; one broken repository fails the command, as on EL."""
    out = []
    for repo in configured():
        if not repo.enabled:
            continue
        got = classify(repo)
        if isinstance(got, str):
            if _dnf():
                state.fail(
                    f"Errors during downloading metadata for repository '{repo.id}':\n  - {got}\n"
                    f"Error: Failed to download metadata for repo '{repo.id}': Cannot download repomd.xml",
                    1,
                )
            state.fail(
                f"failure: repodata/repomd.xml from {repo.id}: [Errno 256] No more mirrors to try.\n{got}\n"
                f"One of the configured repositories failed ({repo.id})",
                1,
            )
        if got.signer and repo.repo_gpgcheck and not _key_ok(repo, got.signer):
            state.fail(
                f"Error: Failed to download metadata for repo '{repo.id}': repomd.xml GPG signature "
                "verification error: Bad GPG signature",
                1,
            )
        out.append((repo, got))
    return out


def available(disable_excludes: set[str]) -> tuple[resolve.Avail, dict[str, YumRepo]]:
    node = state.node()
    avail: resolve.Avail = {}
    owners: dict[str, YumRepo] = {}
    for name in catalog.PACKAGES:
        if catalog.in_distro(name, "el"):
            avail.setdefault(name, {})[catalog.distro_version(name, node)] = "distro"
    for repo, got in load_repos():
        skip = bool({"all", "main", repo.id} & disable_excludes)
        for name, versions in got.packages.items():
            if not skip and any(fnmatch.fnmatchcase(name, pat) for pat in repo.exclude):
                continue
            for version in versions:
                avail.setdefault(name, {})[version] = got.kind
                owners[f"{name}={version}"] = repo
    return avail, owners


def _request(arg: str, avail: resolve.Avail) -> tuple[str, str | None]:
    """`kubeadm-1.34.6` / `kubeadm-1.34.6-150500.1.1` / `kubeadm` -> (name, version glob)."""
    known = sorted(set(avail) | set(catalog.PACKAGES), key=len, reverse=True)
    if arg in known:
        return arg, None
    for name in known:
        if arg.startswith(name + "-") and arg[len(name) + 1 :][:1].isdigit():
            return name, arg[len(name) + 1 :].removesuffix(".x86_64")
    return arg, None


def _nomatch(arg: str) -> None:
    if _dnf():
        state.fail(f"No match for argument: {arg}\nError: Unable to find a match: {arg}", 1)
    state.fail(f"No package {arg} available.\nError: Nothing to do", 1)


def yum(args: list[str]) -> int:
    words = [a for a in args if not a.startswith("-")]
    flags = {a for a in args if a.startswith("-")}
    disabled = {v for a in flags if a.startswith("--disableexcludes=") for v in a.split("=", 1)[1].split(",")}
    if not words:
        state.fail("You need to give some command", 1)
    verb, names = words[0], words[1:]
    if verb == "config-manager":
        return config_manager(args[args.index("config-manager") + 1 :])
    with state.locked():
        if verb in ("makecache", "check-update", "repolist", "clean"):
            loaded = load_repos() if verb != "clean" else []
            if verb == "repolist":
                print("repo id    repo name\n" + "\n".join(r.id for r, _ in loaded))
            return 0
        if verb == "install":
            return _install(names, flags, disabled)
        if verb in ("remove", "erase"):
            return _remove(names, flags)
        if verb in ("update", "upgrade"):
            db = pkgdb.installed()
            return _install(names or sorted(db), flags, disabled, upgrade=True)
        if verb == "list":
            return _list(names, flags, disabled)
    state.fail(f"No such command: {verb}. Please use /usr/bin/yum --help", 1)


def _install(names: list[str], flags: set[str], disabled: set[str], upgrade: bool = False) -> int:
    avail, _ = available(disabled)
    requests = [_request(n, avail) for n in names]
    try:
        plan = resolve.plan(requests, avail, "el", match="yum")
    except resolve.Problem as p:
        if p.kind in ("unknown", "version"):
            _nomatch(next(n for n in names if n.startswith(p.name)) if not upgrade else p.name)
        if p.kind == "downgrade":
            state.fail(f"Error: Package {p.name} of a higher version is already installed; use downgrade", 1)
        state.fail(f"Error: Package: {p.name}\n           Requires: {p.detail}", 1)
    if not plan.install and not plan.remove:
        for name, version in plan.unchanged:
            print(
                f"Package {name}-{version}.x86_64 is already installed."
                if _dnf()
                else f"Package {name}-{version}.x86_64 already installed and latest version"
            )
        print("Dependencies resolved.\nNothing to do.\nComplete!" if _dnf() else "Nothing to do")
        return 0
    print(
        "Dependencies resolved.\n" + "\n".join(f" {n:<20} x86_64 {v:<24} {o}" for n, v, o, _ in plan.install)
    )
    if not flags & {"-y", "--assumeyes"}:
        print(
            "Is this ok [y/N]: Operation aborted."
            if _dnf()
            else "Is this ok [y/d/N]: Exiting on user command"
        )
        return 1
    _gpg(plan, disabled)
    resolve.execute(plan, "el", echo=False)
    print("Installed:\n  " + " ".join(f"{n}-{v}" for n, v, *_ in plan.install) + "\nComplete!")
    return 0


def _gpg(plan: resolve.Plan, disabled: set[str]) -> None:
    _, owners = available(disabled)
    signers = {r.id: got.signer for r, got in load_repos()}
    for name, version, *_ in plan.install:
        repo = owners.get(f"{name}={version}")
        if repo and repo.gpgcheck and signers.get(repo.id) and not _key_ok(repo, signers[repo.id]):
            state.fail(
                f'GPG key retrieval failed: [Errno 14] curl#6 - "Could not resolve host"\n'
                f"Error: Failed to retrieve GPG key for repository '{repo.id}'",
                1,
            )


def _remove(names: list[str], flags: set[str]) -> int:
    db = pkgdb.installed()
    gone = [n for n in names if n in db]
    if not gone:
        print("No match for argument: " + " ".join(names) + "\nNo packages marked for removal.")
        return 0 if not _dnf() else 1
    if not flags & {"-y", "--assumeyes"}:
        print("Is this ok [y/N]: Operation aborted.")
        return 1
    for name in gone:
        pkgdb.drop(name, "el")
    print("Removed:\n  " + " ".join(gone) + "\nComplete!")
    return 0


def _list(names: list[str], flags: set[str], disabled: set[str]) -> int:
    db = pkgdb.installed()
    if names[:1] == ["installed"]:
        print("Installed Packages")
        for name in sorted(db):
            print(f"{name}.x86_64    {db[name]['version']}    @{db[name]['origin']}")
        return 0
    # `yum list [--showduplicates] NAME...`: available versions (only the newest without --showduplicates).
    avail, owners = available(disabled)
    rows = []
    for name in names:
        versions = sorted(avail.get(name, {}), key=functools.cmp_to_key(vercmp.compare))
        if "--showduplicates" not in flags:
            versions = versions[-1:]
        rows += [(name, v, owners[f"{name}={v}"].id if f"{name}={v}" in owners else "base") for v in versions]
    if not rows:
        state.fail("Error: No matching Packages to list", 1)
    print("Available Packages")
    print("\n".join(f"{n}.x86_64    {v}    {r}" for n, v, r in rows))
    return 0


def config_manager(args: list[str]) -> int:
    urls = [args[i + 1] for i, a in enumerate(args) if a == "--add-repo" and i + 1 < len(args)]
    urls += [a.split("=", 1)[1] for a in args if a.startswith("--add-repo=")]
    for url in urls:
        body = repos.fetch(url)
        if body is None:
            state.fail(
                f"Curl error (6): Couldn't resolve host name for {url}\nError: Configuration of repo failed",
                1,
            )
        name = os.path.basename(url)
        print(f"Adding repo from: {url}")
        state.write(f"/etc/yum.repos.d/{name}", body)
    return 0


def rpm(args: list[str]) -> int:
    db = pkgdb.installed()
    if "--import" in args:
        return 0
    if not any(a.startswith("-q") for a in args):
        state.fail(f"rpm: k8slab models only queries (got: {' '.join(args)})", 1)
    fmt = next(
        (args[i + 1] for i, a in enumerate(args) if a in ("--qf", "--queryformat") and i + 1 < len(args)),
        None,
    )
    names = [a for a in args if not a.startswith("-") and a != fmt]
    if "-qa" in args or "-aq" in args:
        names = [n for n in sorted(db) if not names or any(fnmatch.fnmatchcase(n, p) for p in names)]
    missing = 0
    for name in names:
        if name not in db:
            print(f"package {name} is not installed")
            missing += 1
            continue
        version = db[name]["version"].split(":")[-1]
        ver, _, rel = version.partition("-")
        if fmt:
            print(
                fmt.replace("%{NAME}", name)
                .replace("%{VERSION}", ver)
                .replace("%{RELEASE}", rel)
                .replace("%{ARCH}", "x86_64")
                .replace("\\n", "\n"),
                end="",
            )
        else:
            print(f"{name}-{version}.x86_64")
    return min(missing, 255)
