"""The version and mirror catalog: each classic field failure pinned by one decision function."""

from __future__ import annotations

import pytest

from k8stui.model import versions
from k8stui.model.versions import Version


def v(text: str) -> Version:
    return Version.parse(text)


def test_parse_minor_means_latest_known_patch_and_ordering() -> None:
    assert str(v("1.34")) == f"1.34.{versions.LATEST_PATCH[34]}"
    assert v("v1.19.4") == Version(1, 19, 4)
    assert v("1.9.9") < v("1.19.4") < v("1.34.6") < v("1.35.0")
    assert v("1.34.6").v == "v1.34.6" and v("1.34.6").minor_str == "v1.34"


@pytest.mark.parametrize(("version", "api"), [
    ("1.19.4", "v1beta2"), ("1.21.0", "v1beta2"), ("1.22.0", "v1beta3"), ("1.23.6", "v1beta3"),
    ("1.30.14", "v1beta3"), ("1.31.0", "v1beta4"), ("1.34.6", "v1beta4"), ("1.36.2", "v1beta4"),
    ("1.37.1", "v1beta4"),
])
def test_kubeadm_api_version(version: str, api: str) -> None:
    assert versions.kubeadm_api_version(v(version)) == f"kubeadm.k8s.io/{api}"
    assert versions.list_style_extra_args(v(version)) is (api == "v1beta4")


@pytest.mark.parametrize(("mirror", "base"), [
    ("official", "https://pkgs.k8s.io/core:/stable:/v1.34"),
    ("aliyun", "https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.34"),
    ("ustc", "https://mirrors.ustc.edu.cn/kubernetes/core:/stable:/v1.34"),
    ("tuna", "https://mirrors.tuna.tsinghua.edu.cn/kubernetes/core:/stable:/v1.34"),
    ("https://repo.internal/k8s/core:/stable:", "https://repo.internal/k8s/core:/stable:/v1.34"),
])
def test_pkgs_layout_repos_per_mirror(mirror: str, base: str) -> None:
    apt = versions.apt_repo(mirror, v("1.34.6"))
    assert apt.source_line == f"{base}/deb/ /"
    assert apt.pin == "1.34.6-*"
    yum = versions.yum_repo(mirror, v("1.34.6"))
    assert yum.baseurl == f"{base}/rpm/" and yum.pin == "1.34.6" and not yum.repo_gpgcheck


def test_keys_come_from_pkgs_k8s_io_for_package_only_mirrors() -> None:
    for mirror in ("ustc", "tuna"):
        assert versions.apt_repo(mirror, v("1.35.3")).key_url == \
            "https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key"
        assert versions.yum_repo(mirror, v("1.35.3")).gpgkey == \
            "https://pkgs.k8s.io/core:/stable:/v1.35/rpm/repodata/repomd.xml.key"
    aliyun = versions.apt_repo("aliyun", v("1.34.6")).key_url
    assert aliyun == "https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.34/deb/Release.key"


def test_expired_old_minor_keys_are_fetched_from_a_current_minor() -> None:
    assert "/v1.28/deb/Release.key" in versions.apt_repo("official", v("1.25.16")).key_url
    assert "/v1.25/deb/ /" in versions.apt_repo("official", v("1.25.16")).source_line


@pytest.mark.parametrize("version", ["1.19.4", "1.23.6"])
def test_aliyun_legacy_layout(version: str) -> None:
    apt = versions.apt_repo("aliyun-legacy", v(version))
    assert apt.source_line == "https://mirrors.aliyun.com/kubernetes/apt/ kubernetes-xenial main"
    assert apt.key_url == "https://mirrors.aliyun.com/kubernetes/apt/doc/apt-key.gpg"
    assert apt.pin == f"{version}-00"
    yum = versions.yum_repo("aliyun-legacy", v(version))
    assert yum.baseurl == "https://mirrors.aliyun.com/kubernetes/yum/repos/kubernetes-el7-x86_64/"
    assert yum.repo_gpgcheck and yum.pin == version
    assert versions.yum_repo("aliyun-legacy", v(version), "aarch64").baseurl.endswith("-aarch64/")


def test_mirror_limits() -> None:
    assert versions.mirror_problem("aliyun-legacy", v("1.29.0"))
    assert versions.mirror_problem("aliyun-legacy", v("1.28.15")) is None
    assert versions.mirror_problem("official", v("1.23.6"))
    assert versions.mirror_problem("official", v("1.24.0")) is None
    assert versions.mirror_warning("aliyun", v("1.36.2"))
    assert versions.mirror_warning("aliyun", v("1.35.3")) is None


ALI = "registry.aliyuncs.com/google_containers"


@pytest.mark.parametrize(("version", "repo", "pause"), [
    ("1.34.6", None, "registry.k8s.io/pause:3.10.1"),
    ("1.34.6", ALI, f"{ALI}/pause:3.10.1"),
    ("1.23.6", None, "k8s.gcr.io/pause:3.6"),
    ("1.19.4", ALI, f"{ALI}/pause:3.2"),
    ("1.31.14", "registry.k8s.io", "registry.k8s.io/pause:3.10"),
])
def test_pause_image_follows_the_repository(version: str, repo: str | None, pause: str) -> None:
    assert versions.pause_image(v(version), repo) == pause


def test_coredns_path_loses_its_subpath_on_a_custom_repository() -> None:
    default = versions.images(v("1.34.6"))
    custom = versions.images(v("1.34.6"), "registry.aliyuncs.com/google_containers")
    assert "registry.k8s.io/coredns/coredns:v1.12.1" in default
    assert "registry.aliyuncs.com/google_containers/coredns:v1.12.1" in custom
    assert len(default) == 7 and all(i.startswith("registry.k8s.io/") for i in default)


def test_runtime_rules() -> None:
    assert versions.runtime_problem("docker", v("1.24.0"))
    assert versions.runtime_problem("docker", v("1.23.6")) is None
    assert not versions.needs_containerd_2(v("1.35.3"))
    assert versions.needs_containerd_2(v("1.36.0"))
    assert versions.cri_socket("containerd") == "unix:///var/run/containerd/containerd.sock"
    assert versions.cri_socket("docker") == "/var/run/dockershim.sock"
    assert versions.cgroup_v1_refused(v("1.35.0")) and not versions.cgroup_v1_refused(v("1.34.6"))


def test_containerd_key_names_per_config_layout() -> None:
    one, two = versions.containerd_keys(2), versions.containerd_keys(3)
    assert one.sandbox_section == 'plugins."io.containerd.grpc.v1.cri"' and one.sandbox_key == "sandbox_image"
    assert one.runc_options_section.endswith('"io.containerd.grpc.v1.cri".containerd.runtimes.runc.options')
    assert two.sandbox_section == "plugins.'io.containerd.cri.v1.images'.pinned_images"
    assert two.sandbox_key == "sandbox"
    runc = "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options"
    assert two.runc_options_section == runc
    assert versions.expected_containerd_config_version(v("1.35.3")) == 2
    assert versions.expected_containerd_config_version(v("1.36.2")) == 3
    with pytest.raises(KeyError):
        versions.containerd_keys(1)


@pytest.mark.parametrize(("ttl", "seconds", "kubeadm"), [
    ("24h", 86400, "24h"), ("1h30m", 5400, "1h30m"), ("90s", 90, "90s"), ("0", 0, "0s"),
])
def test_token_ttl(ttl: str, seconds: int, kubeadm: str) -> None:
    assert versions.ttl_seconds(ttl) == seconds
    assert versions.kubeadm_duration(ttl) == kubeadm


def test_taint_keys_per_version() -> None:
    assert versions.control_plane_taint_keys(v("1.19.4")) == ["node-role.kubernetes.io/master"]
    assert "node-role.kubernetes.io/master" in versions.control_plane_taint_keys(v("1.23.6"))
    assert versions.control_plane_taint_keys(v("1.34.6")) == ["node-role.kubernetes.io/control-plane"]


def test_china_presets_switch_every_image_source() -> None:
    assert versions.is_china_preset("aliyun", "registry.k8s.io")
    assert versions.is_china_preset("official", "registry.aliyuncs.com/google_containers")
    assert not versions.is_china_preset("official", "registry.k8s.io")
    assert not versions.is_china_preset("https://repo.internal/k8s", "registry.k8s.io")
    flannel, plugin = versions.flannel_images(False)
    assert flannel == f"ghcr.io/flannel-io/flannel:{versions.FLANNEL_VERSION}"
    assert plugin.startswith("ghcr.io/flannel-io/flannel-cni-plugin:")
    assert all(not i.startswith("ghcr.io") for i in versions.flannel_images(True))
    assert versions.calico_images(False)["node"] == f"docker.io/calico/node:{versions.CALICO_VERSION}"
    assert all(not i.startswith("docker.io") for i in versions.calico_images(True).values())
    assert versions.smoke_image(False) == "docker.io/library/nginx:1.27-alpine"
    assert versions.smoke_image(True) != versions.smoke_image(False)
    assert versions.docker_registry_mirrors(False) == []
    assert versions.docker_registry_mirrors(True)


def test_docker_ce_base_falls_back_to_docker_for_custom_mirrors() -> None:
    assert versions.docker_ce_base("aliyun") == "https://mirrors.aliyun.com/docker-ce/linux"
    assert versions.docker_ce_base("https://repo.internal/k8s") == "https://download.docker.com/linux"
