"""Render a kustomization the way `kubectl kustomize` does, for the fields Samspil's
manifests use: `resources` (files and directories), `namespace`, `images`, `replicas`
and `patches` (strategic-merge patches by file). The tests render with it, so that CI
needs no kubectl; operators use `kubectl apply -k deploy/k8s/overlays/production`.

    python deploy/k8s/kustomize.py deploy/k8s/overlays/production

Anything else in a kustomization.yaml is refused loudly, never silently ignored.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

KNOWN = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
# Lists merged item by item by their `name` in a strategic-merge patch (containers, env,
# ports, volumes, volumeMounts); other lists are replaced, as Kubernetes does.
MERGE_BY_NAME = {"containers", "initContainers", "env", "ports", "volumes", "volumeMounts"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}


class KustomizeError(ValueError):
    """A kustomization this renderer does not understand."""


def _load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _merge(base: Any, patch: Any, key: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            merged[name] = _merge(base[name], value, name) if name in base else value
        return merged
    if (isinstance(base, list) and isinstance(patch, list) and key in MERGE_BY_NAME
            and all(isinstance(item, dict) and "name" in item for item in base + patch)):
        merged_list = [dict(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(merged_list)}
        for item in patch:
            if item["name"] in index:
                merged_list[index[item["name"]]] = _merge(merged_list[index[item["name"]]], item)
            else:
                merged_list.append(item)
        return merged_list
    return copy.deepcopy(patch)


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = doc.get("spec") or {}
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
    return (template or {}).get("spec")


def _set_image(doc: dict[str, Any], image: dict[str, Any]) -> None:
    pod = _pod_spec(doc)
    if pod is None:
        return
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        current = str(container.get("image", ""))
        name = current.split("@")[0].rsplit(":", 1)[0] if ":" in current else current
        if name != image["name"]:
            continue
        new = image.get("newName", name)
        if "digest" in image:
            container["image"] = f"{new}@{image['digest']}"
        else:
            tag = image.get("newTag", current[len(name) + 1:] if current != name else "")
            container["image"] = f"{new}:{tag}" if tag else new


def render(directory: Path) -> list[dict[str, Any]]:
    """Every document of the kustomization in `directory`, transformed."""
    kustomization_path = directory / "kustomization.yaml"
    kustomization = yaml.safe_load(kustomization_path.read_text(encoding="utf-8")) or {}
    unknown = set(kustomization) - KNOWN
    if unknown:
        raise KustomizeError(f"{kustomization_path}: fields not supported: {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        docs += render(path) if path.is_dir() else _load_documents(path)
    for patch_ref in kustomization.get("patches", []):
        if set(patch_ref) != {"path"}:
            raise KustomizeError(f"{kustomization_path}: only `patches: - path:` is supported")
        for patch in _load_documents(directory / patch_ref["path"]):
            matches = [d for d in docs if d["kind"] == patch["kind"]
                       and d["metadata"]["name"] == patch["metadata"]["name"]]
            if len(matches) != 1:
                raise KustomizeError(f"{patch_ref['path']}: patches {len(matches)} resources")
            target = matches[0]
            docs[docs.index(target)] = _merge(target, patch)
    for replica in kustomization.get("replicas", []):
        matches = [d for d in docs if d["metadata"]["name"] == replica["name"]
                   and d["kind"] in ("Deployment", "StatefulSet", "ReplicaSet")]
        if not matches:
            raise KustomizeError(f"replicas: no workload named {replica['name']}")
        for doc in matches:
            doc["spec"]["replicas"] = int(replica["count"])
    for image in kustomization.get("images", []):
        for doc in docs:
            _set_image(doc, image)
    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
    return docs


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: kustomize.py DIRECTORY", file=sys.stderr)
        return 2
    print(yaml.safe_dump_all(render(Path(argv[0])), sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
