"""The official SDK's identity-and-access surface, and which of its methods this run called.

`client.admin.organization` in openai-python holds more than orgadmin serves (usage, costs,
certificates, spend limits, …). Its identity-and-access methods are exactly those whose request
lands on an operation of the official document this project implements
(../shared/openapi/openai-admin-identity.yaml). Which operation a method calls is not written
down anywhere but in the SDK's code, so it is found by calling each method once against a
transport that records the request and answers nothing useful (`operation_of`).

`record_successful_calls()` wraps every method of those resource classes, so that a method that
returned (the SDK parsed and, under `_strict_response_validation`, validated the answer) is
remembered; the suite's last test then asserts that every identity-and-access method returned at
least once (test_sdk_surface.py).
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import httpx2 as httpx
import openai
import pytest

from _support import VALIDATOR

SDK_ROOT = ("admin", "organization")


@dataclass(frozen=True)
class SdkMethod:
    """One method of the SDK's resource tree, e.g. `admin.organization.projects.api_keys.list`."""

    path: str
    owner: type
    name: str


def sdk_methods() -> list[SdkMethod]:
    """Every public method under `client.admin.organization`, walking its sub-resources."""
    client = openai.OpenAI(api_key="unused", admin_api_key="unused", base_url="http://127.0.0.1:9/v1")
    found: list[SdkMethod] = []

    def walk(resource: Any, path: list[str]) -> None:
        cls = type(resource)
        for name in sorted(dir(cls)):
            if name.startswith("_") or name in ("with_raw_response", "with_streaming_response"):
                continue
            attr = inspect.getattr_static(cls, name)
            if isinstance(attr, cached_property):
                walk(getattr(resource, name), [*path, name])
            elif inspect.isfunction(attr):
                found.append(SdkMethod(".".join([*path, name]), cls, name))

    root: Any = client
    for part in SDK_ROOT:
        root = getattr(root, part)
    walk(root, list(SDK_ROOT))
    owners = [(m.owner, m.name) for m in found]
    assert len(owners) == len(set(owners)), "a resource class reached by two paths"
    return found


class _Captured(Exception):
    """Raised by the recording transport: the request was built, nothing more is needed."""

    def __init__(self, request: httpx.Request):
        self.request = request


def _capture(request: httpx.Request) -> httpx.Response:
    raise _Captured(request)


_DUMMY = "orgadmin-surface-probe"


def operation_of(method: SdkMethod) -> tuple[str, str] | None:
    """(HTTP method, path template of the document) that `method` requests, or None if the
    request lands outside the document. Required arguments are filled with a placeholder."""
    client = openai.OpenAI(
        api_key="unused",
        admin_api_key="unused",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(_capture)),
    )
    resource: Any = client
    for part in method.path.split(".")[:-1]:
        resource = getattr(resource, part)
    bound = getattr(resource, method.name)
    kwargs: dict[str, Any] = {}
    args: list[Any] = []
    for param in inspect.signature(bound).parameters.values():
        if param.default is not inspect.Parameter.empty or param.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(_DUMMY)
        else:
            kwargs[param.name] = _DUMMY
    try:
        try:
            result = bound(*args, **kwargs)
        except TypeError as e:
            # An overloaded method says which arguments one of its forms requires.
            first_form = re.search(r"Expected either \(([^)]*)\)|Missing required arguments?; Expected (.*)$", str(e))
            if first_form is None:
                raise
            names = re.findall(r"'([^']+)'", first_form.group(0).split(" or ")[0])
            result = bound(*args, **kwargs, **{n: _DUMMY for n in names if n not in kwargs})
        # Lists are lazy pages in some SDK versions; asking for the first page sends the request.
        if hasattr(result, "__iter__"):
            next(iter(result), None)
    except _Captured as captured:
        request = captured.request
    except openai.APIConnectionError as e:  # the SDK wraps transport errors
        if not isinstance(e.__cause__, _Captured):
            raise
        request = e.__cause__.request
    else:
        raise AssertionError(f"{method.path} returned without sending a request")
    path = request.url.path.removeprefix("/v1")
    verb = request.method.lower()
    assert VALIDATOR is not None, "the OpenAPI document is needed to classify the SDK's methods"
    for regex, template, item in VALIDATOR.routes:
        if regex.match(path) and verb in item:
            return verb.upper(), template
    return None


@functools.cache
def identity_surface() -> dict[str, tuple[str, str]]:
    """The SDK's methods that call an operation of the document, with that operation."""
    surface = {}
    for method in sdk_methods():
        operation = operation_of(method)
        if operation is not None:
            surface[method.path] = operation
    return surface


def document_operations() -> set[tuple[str, str]]:
    assert VALIDATOR is not None
    verbs = ("get", "post", "put", "patch", "delete")
    return {
        (verb.upper(), template)
        for _regex, template, item in VALIDATOR.routes
        for verb in verbs
        if verb in item
    }


SUCCEEDED: set[str] = set()

# Set by conftest.py: whether this run selected every test of the suite (no file left out, no
# test deselected), the only case in which `SUCCEEDED` can be expected to hold the whole surface.
WHOLE_SUITE = pytest.StashKey[bool]()


def _recording(path: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        SUCCEEDED.add(path)
        return result

    return wrapper


def record_successful_calls() -> None:
    """Wrap every method of the SDK's `admin.organization` resources so that one that returned is
    remembered in `SUCCEEDED`. Must run before any client is made: the SDK's raw-response
    wrappers bind the methods when a resource is first built."""
    for method in sdk_methods():
        function = inspect.getattr_static(method.owner, method.name)
        if getattr(function, "__orgadmin_recorded__", False):
            continue
        wrapped = _recording(method.path, function)
        wrapped.__orgadmin_recorded__ = True  # type: ignore[attr-defined]
        setattr(method.owner, method.name, wrapped)


def missing_methods() -> list[str]:
    return sorted(set(identity_surface()) - SUCCEEDED)

