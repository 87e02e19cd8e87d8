"""Default users of well-known images that do not run as root.

The image table (``dockfix.images.table``) knows the families it describes; these
images are outside it but common in real files, and a rule that puts a cache under
``/root`` or adds ``USER`` must know that the image already runs as someone else.
"""

from __future__ import annotations

import functools
import re

from dockfix import lazy_re
from dockfix.lazy_dataclass import dataclass


@dataclass(frozen=True)
class KnownUser:
    """A user an image defines: its name, and its uid and home when known."""

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
    # CircleCI's convenience images (legacy circleci/* and cimg/*) run as circleci.
    (r"circleci/.*|cimg/.*", KnownUser("circleci", 3434, "/home/circleci")),
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


#: Images whose own command starts an application (a database, a web or function server):
#: a Dockerfile built FROM one with no CMD of its own still runs that application.
#: From the images' Dockerfiles; images in the table say so in their notes instead.
SERVING_IMAGES = lazy_re.compile(
    r"(.*/)?tiangolo/.*|mcr\.microsoft\.com/azure-functions/.*|(.*/)?meteorhacks/meteord|"
    r"pytorch/torchserve|hhvm/hhvm-proxygen|(docker\.elastic\.co/.*/)?(elasticsearch|kibana|"
    r"logstash)|postgres|postgis/postgis|mysql|mariadb|mongo|redis|rabbitmq|memcached|"
    r"tomcat|jetty|wordpress|drupal|joomla|ghost|nextcloud|odoo|redmine|mediawiki|solr|"
    r"zookeeper|cassandra|neo4j|couchdb|influxdb|traefik|caddy|haproxy|registry|django|"
    r"(quay\.io/)?keycloak/keycloak|jboss/.*|(.*/)?openresty/openresty|kong|consul|vault|"
    r"minio/minio|(.*/)?prom/.*|grafana/.*|jenkins/.*|sonarqube|phusion/baseimage"
)


@functools.lru_cache(maxsize=1024)
def serves_by_default(repository: str) -> bool:
    """Whether the image's own command starts an application (``SERVING_IMAGES``)."""
    repository = repository.lower().removeprefix("docker.io/").removeprefix("library/")
    return SERVING_IMAGES.fullmatch(repository) is not None


@functools.lru_cache(maxsize=1024)
def default_user_of(repository: str) -> KnownUser | None:
    """The default user of ``repository`` (registry included, ``library/`` dropped)."""
    repository = repository.lower().removeprefix("docker.io/").removeprefix("library/")
    for pattern, user in DEFAULT_USERS:
        if re.fullmatch(pattern, repository):
            return user
    return None
