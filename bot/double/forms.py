"""Decode a Bot API request body the way Telegram does: JSON, urlencoded or multipart."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qsl


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """Field name -> raw string value; an uploaded file becomes `<upload NAME, N bytes>`.

    The marker keeps validation simple (an InputFile field accepts any value) while the
    recorded call still shows what was uploaded and how big it was.
    """
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        form: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(data, bytes):
                continue
            filename = part.get_filename()
            if filename is not None or part.get_content_type() == "application/octet-stream":
                form[name] = f"<upload {filename or name}, {len(data)} bytes>"
            else:
                form[name] = data.decode("utf-8")
        return form
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
