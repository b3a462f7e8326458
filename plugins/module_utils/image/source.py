# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an image's bytes from its catalog location: a path, file:// or http(s)://."""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

CHUNK_BYTES = 1024 * 1024


class SourceFailed(NovaliteError):
    """The location could not be read; the message names it and the reason."""


def read_chunks(location, timeout=60.0, use_proxy=True):
    """Yield ``(chunk, announced_length)``; the length is None when the source does not say."""
    if location.startswith(("http://", "https://")):
        return _read_url(location, timeout, use_proxy)
    path = urllib.parse.unquote(urllib.parse.urlparse(location).path) if location.startswith("file://") else location
    return _read_file(location, path)


def _read_file(location, path):
    try:
        with open(path, "rb") as handle:
            length = os.fstat(handle.fileno()).st_size
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                yield chunk, length
    except OSError as exc:
        raise SourceFailed("cannot read image location %s: %s" % (location, exc.strerror or exc), location=location)


def _read_url(url, timeout, use_proxy):
    handlers = [] if use_proxy else [urllib.request.ProxyHandler({})]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                yield chunk, length
    except urllib.error.HTTPError as exc:
        raise SourceFailed("cannot fetch %s: HTTP %d %s" % (url, exc.code, exc.reason), location=url)
    except urllib.error.URLError as exc:
        raise SourceFailed("cannot fetch %s: %s" % (url, _reason(exc.reason)), location=url)
    except (OSError, http.client.HTTPException) as exc:  # resets, timeouts, broken responses mid-body
        raise SourceFailed("cannot fetch %s: %s" % (url, _reason(exc)), location=url)


def _reason(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
