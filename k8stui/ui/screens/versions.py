"""Version & mirrors: Kubernetes version, runtime, package mirror, image registry, time, firewall, token."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Switch

from k8stui.model.cluster import ClusterSpec
from k8stui.ui import version_options as opts
from k8stui.ui.screens.wizard import WizardScreen
from k8stui.ui.validation import problems, under, warnings
from k8stui.ui.widgets.field import Field

# Widget id -> (section of the spec, attribute, cluster-file path) for one-to-one fields.
SIMPLE = {
    "version": ("kubernetes", "version", "kubernetes.version"),
    "runtime": ("kubernetes", "runtime", "kubernetes.runtime"),
    "mirror-url": ("kubernetes", "package_mirror", "kubernetes.packageMirror"),
    "registry-url": ("kubernetes", "image_repository", "kubernetes.imageRepository"),
    "firewall": ("host_prep", "firewall", "hostPrep.firewall"),
    "untaint": ("kubernetes", "untaint_control_plane", "kubernetes.untaintControlPlane"),
    "token-ttl": ("kubernetes", "token_ttl", "kubernetes.tokenTTL"),
}


def choice(options: list[tuple[str, str]], value: str, widget_id: str) -> Select[str]:
    return Select(options, value=value, allow_blank=False, compact=True, id=widget_id)


class VersionsScreen(WizardScreen):
    """Step 3. Only valid runtimes are offered; a version the mirror does not carry is shown inline."""

    STEP = "versions"
    TITLE = "Version & mirrors"
    BINDINGS = [
        Binding(
            "ctrl+g",
            "china",
            "China presets",
            id="versions.china",
            tooltip="aliyun packages and images, Chinese time servers",
        )
    ]

    def __init__(self, spec: ClusterSpec) -> None:
        super().__init__(spec)
        self.field_errors: dict[str, str] = {}
        self.notes: dict[str, str] = {}  # path -> what the screen changed on its own, and why

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with VerticalScroll(classes="form", id="versions-form"):
            yield from self._release_fields()
            yield from self._source_fields()
            yield from self._host_fields()
            with Horizontal(classes="form-buttons"):
                yield Button("Use China presets", id="china")
        yield from self.compose_footer()

    def _release_fields(self) -> ComposeResult:
        k8s = self.spec.kubernetes
        version = choice(opts.version_choices(k8s.version), k8s.version, "version")
        yield Field("Kubernetes", version, "kubernetes.version")
        runtime = choice(opts.runtime_choices(k8s.version), k8s.runtime, "runtime")
        yield Field("Runtime", runtime, "kubernetes.runtime")

    def _source_fields(self) -> ComposeResult:
        """Where packages and images come from: a preset, or a custom value typed below it."""
        k8s = self.spec.kubernetes
        mirror, registry = opts.mirror_choice(k8s.package_mirror), opts.registry_choice(k8s.image_repository)
        yield Field(
            "Package mirror", choice(opts.mirror_choices(), mirror, "mirror"), "kubernetes.packageMirror"
        )
        yield self._custom(
            "Mirror URL",
            "mirror-url",
            k8s.package_mirror,
            "https://mirror.example.com/k8s",
            mirror == opts.CUSTOM,
        )
        repos = choice(opts.registry_choices(), registry, "registry")
        yield Field("Image registry", repos, "kubernetes.imageRepository")
        yield self._custom(
            "Registry",
            "registry-url",
            k8s.image_repository,
            "registry.example.com/k8s",
            registry == opts.CUSTOM,
        )

    def _host_fields(self) -> ComposeResult:
        k8s, prep = self.spec.kubernetes, self.spec.host_prep
        time = opts.time_choice(prep.time_servers)
        yield Field("Time servers", choice(opts.TIME_CHOICES, time, "time"), "hostPrep.timeServers")
        servers = " ".join(prep.time_servers or [])
        yield self._custom("Servers", "time-custom", servers, "ntp1.example.com", time == opts.CUSTOM)
        yield Field("Firewall", choice(opts.FIREWALLS, prep.firewall, "firewall"), "hostPrep.firewall")
        yield Field(
            "Untaint control plane",
            Switch(k8s.untaint_control_plane, id="untaint"),
            "kubernetes.untaintControlPlane",
            hint="Let workloads run on the control plane (labs).",
        )
        ttl = Input(k8s.token_ttl, compact=True, id="token-ttl")
        yield Field("Join token TTL", ttl, "kubernetes.tokenTTL")

    @staticmethod
    def _custom(label: str, key: str, value: str, placeholder: str, shown: bool) -> Field:
        field = Field(
            label,
            Input(value if shown else "", placeholder=placeholder, compact=True, id=key),
            f"custom.{key}",
        )
        field.display = shown
        return field

    def on_mount(self) -> None:
        self.revalidate()
        self.query_one("#version", Select).focus()

    # --- edits ----------------------------------------------------------------------------------

    def _assign(self, widget_id: str, value: object, path: str | None = None) -> None:
        section, attr, default_path = SIMPLE[widget_id]
        model: BaseModel = getattr(self.spec, section)
        path = path or default_path
        try:
            setattr(model, attr, value)
        except ValidationError as exc:
            self.field_errors[path] = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        else:
            self.field_errors.pop(path, None)
        self.revalidate()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        key, value = event.input.id or "", event.value.strip()
        if key == "time-custom":
            self._set_time(opts.CUSTOM)
        elif key in SIMPLE:
            self._assign(key, value, f"custom.{key}" if key.endswith("-url") else None)

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        self._assign("untaint", event.value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        key, value = event.select.id or "", event.value
        if value is Select.NULL:
            return
        handlers = {
            "version": self._set_version,
            "mirror": self._set_mirror,
            "registry": self._set_registry,
            "time": self._set_time,
        }
        if key in handlers:
            handlers[key](str(value))
        elif key in SIMPLE:
            self._assign(key, value)

    def _set_version(self, version: str) -> None:
        self._assign("version", version)
        runtime = self.query_one("#runtime", Select)
        choices = opts.runtime_choices(version)
        runtime.set_options(choices)
        if self.spec.kubernetes.runtime not in dict((v, v) for _, v in choices):
            self.notes["kubernetes.runtime"] = "switched to containerd: docker works only below 1.24"
            self.spec.kubernetes.runtime = "containerd"
        else:
            self.notes.pop("kubernetes.runtime", None)
        runtime.value = self.spec.kubernetes.runtime
        self.revalidate()

    def _set_mirror(self, choice: str) -> None:
        custom = choice == opts.CUSTOM
        self._toggle("mirror-url", custom)
        self._assign(
            "mirror-url",
            self._text("mirror-url") if custom else choice,
            "custom.mirror-url" if custom else "kubernetes.packageMirror",
        )

    def _set_registry(self, choice: str) -> None:
        custom = choice == opts.CUSTOM
        self._toggle("registry-url", custom)
        self._assign(
            "registry-url",
            self._text("registry-url") if custom else choice,
            "custom.registry-url" if custom else "kubernetes.imageRepository",
        )

    def _set_time(self, choice: str) -> None:
        self._toggle("time-custom", choice == opts.CUSTOM)
        servers = opts.time_servers(choice, self._text("time-custom"))
        try:
            self.spec.host_prep.time_servers = servers
        except ValidationError as exc:
            self.field_errors["custom.time-custom"] = exc.errors(include_url=False)[0]["msg"].removeprefix(
                "Value error, "
            )
        else:
            self.field_errors.pop("custom.time-custom", None)
        self.revalidate()

    def _toggle(self, key: str, shown: bool) -> None:
        self.query_one(f"#field-custom-{key}", Field).display = shown
        if not shown:
            self.field_errors.pop(f"custom.{key}", None)

    def _text(self, key: str) -> str:
        return self.query_one(f"#{key}", Input).value.strip()

    @on(Button.Pressed, "#china")
    def action_china(self) -> None:
        """Packages and images from Aliyun, time from Chinese NTP servers: one action for the common case."""
        self.query_one("#mirror", Select).value = opts.CHINA_MIRROR
        self.query_one("#registry", Select).value = opts.CHINA_REGISTRY
        self.query_one("#time", Select).value = "china"

    # --- display --------------------------------------------------------------------------------

    def _found(self) -> dict[str, str]:
        found = problems(self.spec)
        return {**under(found, "kubernetes"), **under(found, "hostPrep"), **self.field_errors}

    def revalidate(self) -> None:
        found = self._found()
        advice = {
            **under(warnings(self.spec), "kubernetes"),
            **under(warnings(self.spec), "hostPrep"),
            **self.notes,
        }
        if china := opts.china_time_hint(self.spec):
            advice.setdefault("hostPrep.timeServers", china)
        proxy = under(problems(self.spec), "network.proxyMode")
        if proxy:  # a version/proxy-mode clash is fixed here or on Network: say so on the version
            found.setdefault("kubernetes.version", "network: " + next(iter(proxy.values())))
        for field in self.query(Field):
            field.show(found.get(field.key), advice.get(field.key))

    def blocker(self) -> str | None:
        found = self._found()
        if found:
            path, message = next(iter(found.items()))
            return f"{path}: {message}"
        return None
