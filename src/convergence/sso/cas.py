"""CAS 3.0 protocol responses, in XML and in JSON, shaped as the CAS Protocol 3.0
specification shows them (sections 2.5 to 2.7 and appendix A).

Only rendering lives here: what to answer is decided by ``actions.cas``. Every value goes
through the XML writer, which escapes it; characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

NAMESPACE = "http://www.yale.edu/tp/cas"

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Error codes of the specification (sections 2.5.3 and 2.7.2).
INVALID_REQUEST = "INVALID_REQUEST"
INVALID_TICKET_SPEC = "INVALID_TICKET_SPEC"
UNAUTHORIZED_SERVICE_PROXY = "UNAUTHORIZED_SERVICE_PROXY"
INVALID_PROXY_CALLBACK = "INVALID_PROXY_CALLBACK"
INVALID_TICKET = "INVALID_TICKET"
INVALID_SERVICE = "INVALID_SERVICE"
UNAUTHORIZED_SERVICE = "UNAUTHORIZED_SERVICE"
INTERNAL_ERROR = "INTERNAL_ERROR"

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# An attribute is one value, or several (one element each in XML, a list in JSON).
AttributeValue = str | Sequence[str]


@dataclass(frozen=True)
class Success:
    """A validated ticket: who, the released attributes (p3 only), PGT IOU, proxy chain."""

    user: str
    attributes: Mapping[str, AttributeValue] | None = None
    pgt_iou: str = ""
    proxies: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class Failure:
    """A refused request: a code of the specification and a description for the service."""

    code: str
    description: str


def _clean(value: str) -> str:
    return _NOT_XML.sub("", value)


class _Writer:
    """Indented ``cas:`` elements over ``XMLGenerator``, which escapes text and attributes."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.xml = XMLGenerator(self.buffer, encoding="utf-8")
        self.depth = 0

    def _start(self, name: str, attributes: Mapping[str, str]) -> None:
        if self.depth:
            self.xml.ignorableWhitespace("\n" + "    " * self.depth)
        cleaned = {key: _clean(value) for key, value in attributes.items()}
        self.xml.startElement(f"cas:{name}", AttributesImpl(cleaned))

    @contextmanager
    def element(self, name: str, attributes: Mapping[str, str] | None = None) -> Iterator[None]:
        self._start(name, attributes or {})
        self.depth += 1
        yield
        self.depth -= 1
        self.xml.ignorableWhitespace("\n" + "    " * self.depth)
        self.xml.endElement(f"cas:{name}")

    def leaf(self, name: str, value: str, attributes: Mapping[str, str] | None = None) -> None:
        self._start(name, attributes or {})
        self.xml.characters(_clean(value))
        self.xml.endElement(f"cas:{name}")

    @contextmanager
    def document(self) -> Iterator[None]:
        with self.element("serviceResponse", {"xmlns:cas": NAMESPACE}):
            yield
        self.xml.ignorableWhitespace("\n")

    def text(self) -> str:
        return self.buffer.getvalue()


def _values(value: AttributeValue) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _success_xml(write: _Writer, result: Success) -> None:
    with write.element("authenticationSuccess"):
        write.leaf("user", result.user)
        if result.attributes is not None:
            with write.element("attributes"):
                for name, value in result.attributes.items():
                    for item in _values(value):
                        write.leaf(name, item)
        if result.pgt_iou:
            write.leaf("proxyGrantingTicket", result.pgt_iou)
        if result.proxies:
            with write.element("proxies"):
                for proxy in result.proxies:
                    write.leaf("proxy", proxy)


def validation_xml(result: Success | Failure) -> str:
    """``/serviceValidate``, ``/proxyValidate`` and their ``/p3/`` twins, as XML."""
    write = _Writer()
    with write.document():
        if isinstance(result, Failure):
            write.leaf("authenticationFailure", result.description, {"code": result.code})
        else:
            _success_xml(write, result)
    return write.text()


def validation_json(result: Success | Failure) -> str:
    """The same answers as JSON (``format=JSON``, specification appendix A)."""
    body: dict[str, object]
    if isinstance(result, Failure):
        body = {"authenticationFailure": {"code": result.code, "description": result.description}}
    else:
        success: dict[str, object] = {"user": result.user}
        if result.pgt_iou:
            success["proxyGrantingTicket"] = result.pgt_iou
        if result.proxies:
            success["proxies"] = list(result.proxies)
        if result.attributes is not None:
            success["attributes"] = {
                name: value if isinstance(value, str) else list(value)
                for name, value in result.attributes.items()
            }
        body = {"authenticationSuccess": success}
    return json.dumps({"serviceResponse": body}, ensure_ascii=False, indent=2) + "\n"


def proxy_xml(result: str | Failure) -> str:
    """``/proxy``: the proxy ticket issued, or why not, as XML."""
    write = _Writer()
    with write.document():
        if isinstance(result, Failure):
            write.leaf("proxyFailure", result.description, {"code": result.code})
        else:
            with write.element("proxySuccess"):
                write.leaf("proxyTicket", result)
    return write.text()


def proxy_json(result: str | Failure) -> str:
    """``/proxy`` as JSON."""
    body: dict[str, object]
    if isinstance(result, Failure):
        body = {"proxyFailure": {"code": result.code, "description": result.description}}
    else:
        body = {"proxySuccess": {"proxyTicket": result}}
    return json.dumps({"serviceResponse": body}, ensure_ascii=False, indent=2) + "\n"
