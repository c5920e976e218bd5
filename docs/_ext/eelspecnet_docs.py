"""Pages of this documentation that are written at build time.

Some pages show what exists when the docs are built, not what existed
when they were written:

- the model cards (``hyperspy_eelspecnet/models/*/card.json``);
- the shipped training configurations;
- the ``eelspecnet`` command's help, from its argument parser;
- the API reference of the modules that exist;
- the evaluation results (``docs/results/``), written later by the
  command recorded inside them.

A page asks for generated text with a marker line, ``.. generated: WHAT
ARGS`` in reStructuredText or ``<!-- generated: WHAT ARGS -->`` in
Markdown, replaced when the page is read (Sphinx's ``source-read``
event); those pages are re-read at every build. The model cards are read
from the installed package, or from the folder named by the environment
variable ``EELSPECNET_DOCS_MODELS_DIR`` (the tests use it to build the
pages with example cards).

The ``optional-toctree`` directive is a ``toctree`` that leaves out the
documents that do not exist (the notebook, while it is being written).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import textwrap
import types
import typing
from pathlib import Path

from docutils.statemachine import StringList
from sphinx.directives.other import TocTree
from sphinx.util import docname_join

if typing.TYPE_CHECKING:
    from hyperspy_eelspecnet.models.card import ModelCard

PACKAGE = "hyperspy_eelspecnet"
DOCS = Path(__file__).resolve().parents[1]
RESULTS = DOCS / "results"
#: Environment variable naming another folder of model cards (for tests).
MODELS_ENV = "EELSPECNET_DOCS_MODELS_DIR"


_RST_MARKER = re.compile(r"^\.\. generated: (?P<what>[\w-]+)(?P<args>.*)$", re.M)
_MD_MARKER = re.compile(r"^<!-- generated: (?P<what>[\w-]+)(?P<args>.*?) -->$", re.M)

#: Pages whose content depends on files outside the docs: always re-read.
GENERATED_PAGES = ("index", "quickstart", "models", "training", "cli", "evaluation",
                   "api/package", "api/inference", "api/evaluation", "api/training",
                   "api/data", "api/tools")


def _package_dir() -> Path:
    return Path(importlib.util.find_spec(PACKAGE).origin).parent


# --------------------------------------------------------------------------
# reStructuredText helpers


def rst_escape(text: str) -> str:
    """Text that reStructuredText shows as it is, on one line."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\*`|_<>\[\]])", r"\\\1", text)


def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _value(value) -> str:
    """One table cell: numbers and identifiers as code, prose escaped."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"``{value}``"
    if isinstance(value, (int, float)):
        return f"``{value!r}``"
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "``" + ", ".join(repr(v) for v in value) + "``"
        return "; ".join(_value(v) for v in value)
    if isinstance(value, dict):
        if not value:
            return "none"
        return "; ".join(f"{rst_escape(k)}: {_value(v)}" for k, v in value.items())
    text = str(value)
    if re.fullmatch(r"[\w./+:-]+", text) and "``" not in text:
        return f"``{text}``"
    return rst_escape(text)


def _flatten(mapping: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _table(rows: list[tuple[str, object]], header: tuple[str, str] = ("setting", "value"),
           caption: str = "") -> list[str]:
    if not rows:
        return ["*(empty)*", ""]
    lines = [f".. list-table:: {rst_escape(caption)}".rstrip(), "   :header-rows: 1",
             "   :widths: 35 65", "", f"   * - {header[0]}", f"     - {header[1]}"]
    for key, value in rows:
        lines += [f"   * - ``{key}``", f"     - {_value(value)}"]
    return lines + [""]


# --------------------------------------------------------------------------
# Model cards


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "not recorded"
    minutes = seconds / 60
    if minutes >= 90:
        return f"{seconds:.0f} s ({minutes / 60:.2f} h)"
    return f"{seconds:.0f} s ({minutes:.1f} min)"


def _figures(section: dict, model_dir: Path) -> list[str]:
    """Image directives for card values that name an image in the model folder."""
    lines = []
    for key, value in _flatten(section):
        if isinstance(value, str) and value.lower().endswith((".png", ".svg", ".jpg")):
            path = (model_dir / value).resolve()
            if path.is_file():
                rel = os.path.relpath(path, DOCS).replace(os.sep, "/")
                lines += [f".. figure:: /{rel}", "   :width: 90%", "",
                          f"   ``{key}``: ``{value}``", ""]
    return lines


def _number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (int, float)):
        if value == 0 or 1e-3 <= abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:.2e}"
    return str(value)


def _is_summary(value) -> bool:
    return isinstance(value, dict) and "median" in value


def _summary_cell(stats: dict, spread: tuple[str, str]) -> str:
    low, high = (stats.get(k) for k in spread)
    if stats.get("median") is None:
        return "n/a"
    if spread == ("min", "max"):
        return f"{_number(stats['median'])} ({_number(low)}..{_number(high)})"
    return f"{_number(stats['median'])} [{_number(low)}, {_number(high)}]"


def _evaluation_rst(section: dict, model_dir: Path, spread: tuple[str, str]) -> list[str]:
    """A recorded evaluation: its command, settings and one table per set.

    ``summary`` is ``{set: {method: {measure: {"median": ..., ...}}}}``
    (as ``eelspecnet evaluate --update-cards`` writes it); anything else
    is shown as a plain table.
    """
    lines = []
    command = section.get("command")
    if command:
        lines += ["Command:", "", ".. code-block:: bash", "", textwrap.indent(command, "   "), ""]
    summary = section.get("summary")
    settings = [(k, v) for k, v in section.items() if k not in ("command", "summary")]
    if settings:
        lines += _table(_flatten(dict(settings)))
    if not isinstance(summary, dict):
        return lines + _figures(section, model_dir)
    for set_name, by_method in summary.items():
        if not isinstance(by_method, dict):
            continue
        methods = list(by_method)
        measures = list(dict.fromkeys(
            m for per in by_method.values() if isinstance(per, dict) for m in per))
        if not methods or not measures:
            continue
        caption = f"set ``{set_name}``" if set_name else ""
        lines += [f".. list-table:: {caption}".rstrip(), "   :header-rows: 1", "",
                  "   * - measure"] + [f"     - {rst_escape(m)}" for m in methods]
        for measure in measures:
            lines.append(f"   * - ``{measure}``")
            for method in methods:
                entry = by_method[method]
                stats = entry.get(measure) if isinstance(entry, dict) else None
                lines.append("     - " + (_summary_cell(stats, spread) if _is_summary(stats)
                                           else _value(stats)))
        lines.append("")
    return lines + _figures(section, model_dir)


def model_card_rst(name: str, card: ModelCard, model_dir: Path) -> list[str]:
    """The reStructuredText of one model card, section by section."""
    lines = _heading(name, "-")
    if card.description:
        lines += [rst_escape(card.description), ""]
    files = [("folder", f"hyperspy_eelspecnet/models/{name}/"), ("created", card.created),
             ("format_version", card.format_version), ("weights_sha256", card.weights_sha256)]
    lines += _table(files, caption="Files")

    sections = [
        ("Architecture", card.architecture.model_dump(),
         "The network's layout; ``trainable_parameters`` counted when it was exported."),
        ("Preprocessing", card.preprocessing.model_dump(),
         "How :func:`~hyperspy_eelspecnet.inference.restore.restore_spectra` feeds a "
         "spectrum to the network: normalised to unit integral, mapped to the "
         "value ``scale``, its maximum moved to ``zlp_channel``, zero-padded to a "
         "multiple of ``length_multiple`` channels."),
        ("Calibration", card.calibration.model_dump(),
         "The energy axis of the training spectra."),
        ("Domain", card.domain.model_dump(),
         "What the out-of-domain checks compare your spectra with "
         "(see :doc:`user_guide/domain`): ZLP FWHM in channels (1st to "
         "99th percentile of generated spectra), channel counts."),
        ("Generator ranges", card.generator,
         "The full :class:`~hyperspy_eelspecnet.training.config.GeneratorConfig` "
         "of the training spectra (channel units unless the name says eV)."),
    ]
    for title, section, note in sections:
        lines += _heading(title, "~") + [note, ""] + _table(_flatten(section))

    training = card.training
    lines += _heading("Training", "~")
    lines += _table([("training time", _duration(training.training_time_s))]
                    + _flatten(training.model_dump(exclude={"command", "training_time_s"})))
    if training.command:
        lines += ["Command:", "", ".. code-block:: bash", "",
                  textwrap.indent(training.command, "   "), ""]
    else:
        lines += ["The card records no command.", ""]

    lines += _heading("Evaluation", "~")
    if card.evaluation:
        lines += ["On generated spectra, as recorded in the card by the command below "
                  "(median [5th, 95th percentile] per spectrum; :doc:`evaluation` "
                  "explains the sets and measures).", ""]
        lines += _evaluation_rst(card.evaluation.model_dump(), model_dir, ("p5", "p95"))
    else:
        lines += ["The card records no evaluation yet; see :doc:`evaluation` for "
                  "how to run it.", ""]
    real = card.real_data
    if real:
        lines += _heading("Evaluation on measured spectra", "~")
        lines += ["Checks without ground truth (:doc:`evaluation`), as recorded in "
                  "the card: median (minimum..maximum) over the spectra.", ""]
        lines += _evaluation_rst({"summary": {"": real.methods}, "command": real.command},
                                 model_dir, ("min", "max"))
        floor = real.vacuum_floor
        lines += [f"A perfect restoration of the vacuum recordings leaves a "
                  f"re-convolution residual of {floor['median']:.3g} "
                  f"({floor['min']:.3g}..{floor['max']:.3g}): the floor of that "
                  "measure for a restoration whose ZLP is one narrow peak.", ""]

    lines += _heading("Limitations", "~")
    if card.limitations:
        lines += [f"- {rst_escape(item)}" for item in card.limitations] + [""]
    else:
        lines += ["The card lists none.", ""]
    return lines


def model_cards_rst(models_dir: Path | None = None) -> str:
    """Every model card in ``models_dir`` (default: the package's models)."""
    from hyperspy_eelspecnet.models.card import ModelCard

    if models_dir is None and os.environ.get(MODELS_ENV):
        models_dir = Path(os.environ[MODELS_ENV])
    if models_dir is None:
        from hyperspy_eelspecnet.models.registry import MODELS_DIR as models_dir
    cards = sorted(Path(models_dir).glob("*/card.json"))
    if not cards:
        return ("\n.. note::\n\n   No model ships with this build of the package yet: "
                "``hyperspy_eelspecnet/models/`` holds no ``card.json``. Until one "
                "does, train and export your own (:doc:`training`) and pass its "
                "folder as ``model=``.\n")
    lines = []
    for path in cards:
        lines += model_card_rst(path.parent.name, ModelCard.read(path), path.parent)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Training configurations and the command line


def configs_rst() -> str:
    folder = _package_dir() / "training" / "configs"
    configs = sorted(folder.glob("*.yaml"))
    if not configs:
        return "No configuration ships with the package.\n"
    lines = []
    for path in configs:
        rel = os.path.relpath(path, DOCS).replace(os.sep, "/")
        lines += [f"``{path.stem}`` (``{PACKAGE}/training/configs/{path.name}``):", "",
                  f".. literalinclude:: /{rel}", "   :language: yaml", ""]
    return "\n".join(lines)


def cli_rst() -> str:
    """``eelspecnet --help`` and the help of each subcommand."""
    from hyperspy_eelspecnet.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        parser = build_parser()
        helps = [("eelspecnet", parser.format_help())]
        for action in parser._subparsers._group_actions:  # argparse's subcommands
            for name, sub in action.choices.items():
                helps.append((f"eelspecnet {name}", sub.format_help()))
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    lines = []
    for title, text in helps:
        lines += _heading(f"``{title}``", "-")
        lines += [".. code-block:: text", "", textwrap.indent(text.rstrip(), "   "), ""]
    return "\n".join(lines)


def generator_defaults_rst() -> str:
    """Every generator setting with its default (the paper's recipe)."""
    from hyperspy_eelspecnet.training.config import GeneratorConfig

    rows = []
    for name, field in GeneratorConfig.model_fields.items():
        default = field.default
        if hasattr(default, "model_dump"):
            default = default.model_dump(mode="json")
        rows.append((name, default))
    return "\n".join(_table(_flatten(dict(rows)), header=("setting", "default")))


def presets_rst() -> str:
    """The named network layouts."""
    from hyperspy_eelspecnet.training.network import PRESETS

    rows = [(name, f"depth {len(cfg.filters)}, filters " + ", ".join(map(str, cfg.filters)))
            for name, cfg in PRESETS.items()]
    return "\n".join(_table(rows, header=("preset", "layout")))


# --------------------------------------------------------------------------
# API reference


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _public_members(module) -> list[str]:
    """Public functions and classes defined in ``module`` (its ``__all__`` first)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    members = []
    for name in names:
        obj = getattr(module, name, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            members.append(name)
    return members


def _reexports(module) -> list[tuple[str, object]]:
    """Names in a package's ``__all__`` defined in other modules."""
    out = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if obj is None:
            continue
        if inspect.ismodule(obj) or getattr(obj, "__module__", module.__name__) != module.__name__:
            out.append((name, obj))
    return out


def _relative(home: str, attr: str, package: str) -> str:
    """An autosummary entry for ``home.attr`` seen from ``package``."""
    if home.startswith(package + "."):
        return f"~{home[len(package) + 1:]}.{attr}"
    return f"~{home}.{attr}"


def api_rst(modules: list[str]) -> str:
    """A section per module that exists: summary table and full docs."""
    lines = []
    missing = [m for m in modules if not _exists(m)]
    for name in modules:
        if name in missing:
            continue
        module = importlib.import_module(name)
        lines += _heading(name, "-") + [f".. currentmodule:: {name}", ""]
        members = _public_members(module)
        if hasattr(module, "__path__"):  # a package: its docstring and what it re-exports
            entries, local, submodules = [], [], []
            for attr, obj in _reexports(module):
                if inspect.ismodule(obj):
                    submodules.append(obj.__name__)
                elif any(part.startswith("_") for part in obj.__module__.split(".")):
                    local.append((attr, obj))  # defined in a private module: documented here
                else:
                    entries.append(_relative(obj.__module__, attr, name))
            entries += [f"~{m}" for m in members]
            if entries:
                lines += [".. autosummary::", ""] + [f"   {e}" for e in entries] + [""]
            if submodules:
                lines += ["Submodules: " + ", ".join(f":mod:`{m}`" for m in submodules) + ".", ""]
            lines += [f".. automodule:: {name}", "   :no-members:", ""]
            for attr, obj in local + [(m, getattr(module, m)) for m in members]:
                directive = "autoclass" if inspect.isclass(obj) else "autofunction"
                lines += [f".. {directive}:: {attr}", ""]
        else:
            if members:
                lines += [".. autosummary::", ""] + [f"   {m}" for m in members] + [""]
            lines += [f".. automodule:: {name}", "   :members:", ""]
    if missing:
        lines += [".. note::", "", "   Not in this build (the modules do not exist yet): "
                  + ", ".join(f"``{m}``" for m in missing) + ".", ""]
    return "\n".join(lines)


def _alias_signature(app, what, name, obj, options, signature, return_annotation):
    """Leave the signature of a type alias (``Line = tuple[...]``) alone.

    numpydoc's signature hook treats a parametrised generic such as
    ``tuple[float, float]`` as a callable and fails on it ("error while
    formatting signature ... list assignment index out of range"); this
    hook runs first and keeps autodoc's own result, so the alias is
    documented as "alias of tuple[...]".
    """
    if isinstance(obj, (types.GenericAlias, typing._GenericAlias)):
        return signature, return_annotation
    return None


# --------------------------------------------------------------------------
# Evaluation results (Markdown page)


#: Section titles of the known results files.
RESULT_TITLES = {
    "evaluation.md": "On generated spectra",
    "real_data.md": "On measured spectra",
    "near_zlp.md": "Near the ZLP, cropped spectra and the gain side",
}
#: Captions of the figures ``eelspecnet evaluate`` writes.
FIGURE_CAPTIONS = {
    "examples.png": "Restorations at the noise levels of the paper's Fig. 3",
    "noise_variance.png": "Residual noise variance against noise amplitude, "
                          "ZLP-only spectra (paper Fig. 4)",
    "zlp_widths.png": "ZLP FWHM and FWTM recovery and relative error (paper Fig. 5)",
    "fidelity.png": "Fidelity: SSIM and loss-region error (paper Fig. 6)",
    "near-zlp.png": "One box per near-ZLP case, every method, near the ZLP",
    "cropped.png": "One cropped spectrum per variant, every method",
    "gain-side.png": "One gain-side spectrum per dispersion, every method",
}


def _heading_levels(markdown: str) -> list[int]:
    levels, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            match = re.match(r"^(#{1,6})\s", line)
            if match:
                levels.append(len(match.group(1)))
    return levels


def results_md(files: list[str], level: int = 2) -> str:
    """MyST includes of the results files that exist, and their figures.

    Each file's headings are shifted so that its top heading sits at
    ``level + 1`` (under the page's section of that level). Figures in
    ``docs/results/`` that no results file shows are added at the end.
    """
    present = [RESULTS / f for f in files if (RESULTS / f).is_file()]
    absent = [f for f in files if not (RESULTS / f).is_file()]
    shown_text = ""
    parts = []
    for path in present:
        text = path.read_text()
        shown_text += text
        levels = _heading_levels(text)
        offset = max(0, level + 2 - min(levels)) if levels else 0
        title = RESULT_TITLES.get(path.name, path.name)
        parts += [f"{'#' * (level + 1)} {title}", "",
                  f"From `docs/results/{path.name}`:", "",
                  f"```{{include}} results/{path.name}",
                  ":relative-images:", f":heading-offset: {offset}", "```", ""]
    figures = [p for p in sorted(RESULTS.glob("*.png")) if p.name not in shown_text]
    if figures:
        parts += [f"{'#' * (level + 1)} Figures", "",
                  "Written by the same command as the tables above, into "
                  "`docs/results/`.", ""]
        for path in figures:
            caption = FIGURE_CAPTIONS.get(path.name, "")
            caption = f"{caption} (`{path.name}`)" if caption else f"`{path.name}`"
            parts += [f"```{{figure}} results/{path.name}", ":width: 90%", "",
                      caption, "```", ""]
    if absent:
        names = ", ".join(f"`docs/results/{f}`" for f in absent)
        parts += ["```{note}",
                  f"Not in this build: {names}. `eelspecnet evaluate --out docs/results` "
                  "writes `evaluation.md` with its figures, `eelspecnet evaluate --real "
                  "DIR --dispersion D --out docs/results` `real_data.md`, `eelspecnet "
                  "evaluate --near-zlp --out docs/results` `near_zlp.md`; each records "
                  "the command that made it. Until they exist, this page gives the "
                  "protocol only.", "```", ""]
    return "\n".join(parts)


def notebook_link() -> str:
    """A list item linking to the notebook, if it exists."""
    if not (DOCS / "nanowire_workflow.ipynb").is_file():
        return ""
    return ("- :doc:`/nanowire_workflow`: the same map, lazily, with a modal-evolution\n"
            "  map along the wire (a line profile) and a search for the SiN phonon.")


# --------------------------------------------------------------------------
# Sphinx glue


def generate(what: str, args: list[str]) -> str:
    makers = {
        "model-cards": model_cards_rst,
        "training-configs": configs_rst,
        "cli": cli_rst,
        "api": lambda: api_rst(args),
        "results": lambda: results_md(args),
        "notebook-link": notebook_link,
        "generator-defaults": generator_defaults_rst,
        "presets": presets_rst,
    }
    if what in makers:
        return makers[what]()
    raise ValueError(f"unknown generated content {what!r}")


def _on_source_read(app, docname: str, source: list[str]) -> None:
    text = source[0]
    text = _RST_MARKER.sub(lambda m: generate(m["what"], m["args"].split()), text)
    text = _MD_MARKER.sub(lambda m: generate(m["what"], m["args"].split()), text)
    source[0] = text


def _always_outdated(app, env, added, changed, removed) -> list[str]:
    return [d for d in GENERATED_PAGES if d in env.found_docs]


class OptionalTocTree(TocTree):
    """A ``toctree`` that leaves out entries whose documents do not exist."""

    def run(self):
        found = self.env.found_docs
        kept = []
        for line in self.content:
            entry = line.strip()
            target = entry
            explicit = re.match(r"^(.*?)\s*<(.+)>$", entry)
            if explicit:
                target = explicit.group(2)
            if not entry or target.startswith(("http://", "https://")):
                kept.append(line)
                continue
            docname = docname_join(self.env.docname, target).lstrip("/")
            if docname in found:
                kept.append(line)
        if not any(line.strip() for line in kept):
            return []
        self.content = StringList(kept, source=self.content.source(0) if self.content else "")
        return super().run()


def setup(app):
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _always_outdated)
    app.add_directive("optional-toctree", OptionalTocTree)
    app.connect("autodoc-process-signature", _alias_signature, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
