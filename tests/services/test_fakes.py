"""The fakes answer to the same Protocols as storage/: same methods, same signatures."""

import inspect
import typing

import pytest

from campaigns.ports import UnitOfWork
from tests.services.fakes import REPOSITORIES


def port_of(name: str) -> type:
    return typing.get_type_hints(getattr(UnitOfWork, name).fget)["return"]


@pytest.mark.parametrize("name", sorted(REPOSITORIES))
def test_every_faked_method_has_the_signature_its_port_declares(name):
    fake, port = REPOSITORIES[name], port_of(name)
    methods = [
        m
        for m in vars(fake)
        if not m.startswith("_") and inspect.iscoroutinefunction(getattr(fake, m))
    ]

    for method in methods:
        assert hasattr(port, method), f"{fake.__name__}.{method} is not in {port.__name__}"
        assert inspect.signature(getattr(fake, method)) == inspect.signature(
            getattr(port, method)
        ), f"{fake.__name__}.{method}"
    assert methods
