"""``labwright kg ingest|stats|path|hypotheses|export`` — the knowledge store from the shell.

The store is ``--store PATH`` (a file or a ``postgresql://`` URL) or, by default, the PostgreSQL database of
``settings.database_url`` (``LABWRIGHT_DATABASE_URL``) when set, else ``settings.knowledge_path``
(``LABWRIGHT_KNOWLEDGE_DB``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InvalidInput

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kg", help="hypergraph knowledge store", description=__doc__.splitlines()[0])
    kg = p.add_subparsers(dest="kg_command", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        # a string, not a Path: Path("postgresql://h/db") would fold the URL's "//"
        q.add_argument("--store", default=None, help="SQLite file or postgresql:// URL (default: from the settings)")
        q.add_argument("--json", action="store_true", help="print the full result as JSON")

    q = kg.add_parser("ingest", help="ingest a corpus (JSONL/folder of texts), an events file (JSONL/CSV) or HIF")
    q.add_argument("path", type=Path)
    q.add_argument("--format", choices=["auto", "corpus", "events", "hif"], default="auto")
    q.add_argument("--extractor", choices=["auto", "offline", "llm"], default="auto")
    q.add_argument("--document", default=None, help="document id for events that name none (default: file name)")
    common(q)
    q.set_defaults(func=_ingest)

    q = kg.add_parser("stats", help="sizes, degree power-law fit, s-components")
    q.add_argument("--s", type=int, default=1)
    common(q)
    q.set_defaults(func=_stats)

    for name, func, text in (
        ("path", _path, "k shortest s-paths between two concepts"),
        ("hypotheses", _hypotheses, "grounded hypotheses linking two concepts"),
    ):
        q = kg.add_parser(name, help=text)
        q.add_argument("a")
        q.add_argument("b")
        q.add_argument("--s", type=int, default=1)
        q.add_argument("--k", type=int, default=3)
        q.add_argument(
            "--through",
            action="append",
            default=[],
            metavar="CONCEPT",
            help="a concept the path must pass (repeat, in order)",
        )
        common(q)
        q.set_defaults(func=func)

    q = kg.add_parser("export", help="write the store (or the edges around concepts) as HIF JSON")
    q.add_argument("out", type=Path)
    q.add_argument("--around", action="append", default=[], metavar="CONCEPT")
    common(q)
    q.set_defaults(func=_export)


def _store_arg(args: argparse.Namespace) -> str | None:
    return str(args.store) if args.store else None


def _detect(path: Path) -> str:
    if path.is_dir() or path.suffix.lower() in (".txt", ".md"):
        return "corpus"
    if path.suffix.lower() == ".csv":
        return "events"
    if path.suffix.lower() == ".json":
        return "hif"
    with path.open(encoding="utf-8", errors="replace") as fh:  # only a guess: the reader reports bad bytes
        first = next((ln for ln in fh if ln.strip()), "{}")
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        return "events"  # the reader reports the line
    return "corpus" if isinstance(rec, dict) and "text" in rec else "events"


def _ingest(args: argparse.Namespace) -> int:
    from . import _ingest as ing
    from ._hif import load_hif
    from ._store import open_store

    path: Path = args.path
    if not path.exists():
        raise InvalidInput("path", f"no such file or folder: {path}")
    fmt = args.format if args.format != "auto" else _detect(path)
    with open_store(args.store) as store:
        if fmt == "hif":
            out = load_hif(store, path, document_id=args.document)
        elif fmt == "events":
            out = ing.ingest_events(store, ing.read_events(path), document_id=args.document or path.name).as_dict()
        else:
            out = ing.ingest_documents(store, ing.read_corpus(path), extractor=args.extractor).as_dict()
        out = {"store": str(store.path), "format": fmt, **out, "totals": store.counts()}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        t = out["totals"]
        print(
            f"ingested {path} ({fmt}) into {out['store']}: {t['nodes']} nodes, {t['edges']} hyperedges, "
            f"{t['provenance']} provenance records, {t['documents']} documents"
        )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from ._tools import kg_stats

    out = kg_stats(store_path=_store_arg(args), s=args.s)
    if args.json:
        print(out.model_dump_json(indent=2))
        return 0
    print(f"{out.nodes} nodes, {out.edges} hyperedges, {out.incidences} incidences, {out.documents} documents")
    print(
        f"degree: mean {out.mean_degree:.2f}, max {out.max_degree}; edge size: mean {out.mean_edge_size:.2f}, "
        f"max {out.max_edge_size}"
    )
    if out.power_law:
        pl = out.power_law
        print(
            f"power law: alpha = {pl.alpha:.3f} ± {pl.sigma:.3f} for degree ≥ {pl.x_min} "
            f"({pl.n_tail} nodes, KS {pl.ks:.3f})"
        )
    print(
        f"s = {out.s}: {out.components} components; largest: "
        + "; ".join(f"{c.size} edges ({', '.join(c.top_nodes[:4])})" for c in out.largest_components[:3])
    )
    return 0


def _print_path(i: int, p) -> None:
    print(f"path {i + 1} ({p.length} hops):")
    for j, e in enumerate(p.edges):
        docs = ", ".join(sorted({c.document_id for c in e.citations}))
        print(f"  [{e.id}] {e.sentence}   <{docs}>")
        if j < len(p.intersections):
            print(f"      ∩ {', '.join(p.intersections[j])}")


def _path(args: argparse.Namespace) -> int:
    from ._tools import kg_paths

    out = kg_paths(store_path=_store_arg(args), a=args.a, b=args.b, s=args.s, k=args.k, through=args.through)
    if args.json:
        print(out.model_dump_json(indent=2))
    elif not out.paths:
        print(f"no {args.s}-path from {args.a!r} to {args.b!r}")
    for i, p in enumerate(out.paths if not args.json else []):
        _print_path(i, p)
    return 0


def _hypotheses(args: argparse.Namespace) -> int:
    from ._tools import kg_hypotheses

    out = kg_hypotheses(store_path=_store_arg(args), a=args.a, b=args.b, s=args.s, k=args.k, through=args.through)
    if args.json:
        print(out.model_dump_json(indent=2))
        return 0
    if not out.hypotheses:
        print(f"no {args.s}-path from {args.a!r} to {args.b!r}: no hypothesis")
    for i, h in enumerate(out.hypotheses):
        print(f"hypothesis {i + 1} (score {h.score:.2f}): {h.statement}")
        for c in h.claims:
            cites = "; ".join(
                f"{x.document_id} {x.locator.get('start', '')}-{x.locator.get('end', '')}".strip(" -")
                for x in c.citations
            )
            print(f"  - {c.text}  [{cites}]")
        if h.prose:
            print(f"  prose: {h.prose}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ._tools import kg_export

    out = kg_export(store_path=_store_arg(args), path=str(args.out), around=args.around)
    if args.json:
        print(out.model_dump_json(indent=2))
    else:
        print(
            f"wrote {out.path}: {out.nodes} nodes, {out.edges} hyperedges, {out.incidences} incidences "
            f"(sha256 {out.sha256[:12]}…)"
        )
    return 0
