"""Default users of well-known images that do not run as root.

The image table (``dockfix.images.table``) knows the families it describes; these
images are outside it but common in real files, and a rule that puts a cache under
``/root`` or adds ``USER`` must know that the image already runs as someone else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownUser:
    name: str
    uid: int | None
    home: str | None


#: (repository pattern, default user).  From the images' own Dockerfiles.
DEFAULT_USERS: tuple[tuple[str, KnownUser], ...] = (
    (r"(quay\.io/)?jupyter/.*", KnownUser("jovyan", 1000, "/home/jovyan")),
    (r"(docker\.io/)?jupyterhub/singleuser", KnownUser("jovyan", 1000, "/home/jovyan")),
    (r"(.*/)?kubeflownotebookswg/.*", KnownUser("jovyan", 1000, "/home/jovyan")),
    (r"(.*/)?kubeflow/.*notebook.*", KnownUser("jovyan", 1000, "/home/jovyan")),
    (
        r"jenkins/(jenkins|agent|inbound-agent|ssh-agent)",
        KnownUser("jenkins", 1000, "/var/jenkins_home"),
    ),
    (r"(.*/)?bitnami/.*", KnownUser("1001", 1001, None)),
    (r"nginxinc/nginx-unprivileged", KnownUser("nginx", 101, None)),
    (r"grafana/grafana(-oss|-enterprise)?", KnownUser("grafana", 472, "/usr/share/grafana")),
    (r"sonarqube|sonarsource/.*", KnownUser("sonarqube", 1000, None)),
    (
        r"docker\.elastic\.co/elasticsearch/.*",
        KnownUser("elasticsearch", 1000, "/usr/share/elasticsearch"),
    ),
    (r"mambaorg/micromamba", KnownUser("mambauser", 57439, "/home/mambauser")),
    # Images outside the table that run as root (their Dockerfiles set no USER).
    (
        r"rocker/.*|continuumio/.*|condaforge/.*|nvidia/cuda|(nvcr\.io/)?nvidia/.*|"
        r"tensorflow/tensorflow|pytorch/pytorch|phusion/baseimage|huggingface/.*",
        KnownUser("root", 0, "/root"),
    ),
    (
        r"registry\.access\.redhat\.com/ubi\d/(python|nodejs|ruby|php|perl)-\d+",
        KnownUser("1001", 1001, "/opt/app-root/src"),
    ),
    (
        r"(quay\.io/)?(sclorg|centos7?)/(python|nodejs|ruby|php)-\d+-.*",
        KnownUser("1001", 1001, "/opt/app-root/src"),
    ),
)

#: Home folders of users named in the image table (``ImageTraits.nonroot_user``).
KNOWN_HOMES = {
    "root": "/root",
    "node": "/home/node",
    "jovyan": "/home/jovyan",
    "nonroot": "/home/nonroot",
}


def default_user_of(repository: str) -> KnownUser | None:
    """The default user of ``repository`` (registry included, ``library/`` dropped)."""
    repository = repository.lower().removeprefix("docker.io/").removeprefix("library/")
    for pattern, user in DEFAULT_USERS:
        if re.fullmatch(pattern, repository):
            return user
    return None
