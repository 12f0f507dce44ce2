"""The protobuf wire format, read and written without the protobuf library, and NAS-Bench-101's
``ModelMetrics`` message on top of it.

A message is a sequence of fields, each a varint key ``(field_number << 3) | wire_type``
followed by a value: wire type 0 a varint, 1 eight little-endian bytes, 2 a varint length and
that many bytes (strings, nested messages), 5 four little-endian bytes. Unknown fields are
skipped, as protobuf readers do.

NAS-Bench-101's ``model_metrics.proto`` (proto2)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;  // start, halfway, end of training
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;       // seconds of training up to this point
      optional double train_accuracy = 3;
      optional double validation_accuracy = 4;
      optional double test_accuracy = 5;
      optional string checkpoint_path = 6;
    }

Example:
    >>> m = ModelMetrics((Evaluation(0, 0, 0.1, 0.1, 0.1), Evaluation(54, 600, 0.9, 0.88, 0.87)),
    ...                  trainable_parameters=2694282, total_time=1300.5)
    >>> ModelMetrics.decode(m.encode()) == m
    True
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Evaluation", "ModelMetrics", "WireError", "evaluation_values", "fields", "varint"]


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def varint(value: int) -> bytes:
    """The varint encoding of a non-negative int (negative int32/int64: two's complement)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("a varint runs past the end of the message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("a varint longer than 10 bytes")


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` of each field: ints for varints, raw bytes for the
    fixed-width and length-delimited types."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            yield number, wire, value
            continue
        if wire == 1:
            size = 8
        elif wire == 5:
            size = 4
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
        else:
            raise WireError(f"unsupported wire type {wire} (field {number})")
        if pos + size > n:
            raise WireError(f"field {number} runs past the end of the message")
        yield number, wire, buf[pos : pos + size]
        pos += size


def _double(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value)


def _as_double(wire: int, raw: int | bytes, what: str) -> float:
    if wire != 1 or not isinstance(raw, bytes):
        raise WireError(f"{what} has wire type {wire}, expected a double")
    return float(struct.unpack("<d", raw)[0])


@dataclass(frozen=True)
class Evaluation:
    """One ``EvaluationData``: the metrics at one point of training (NaN: not recorded)."""

    current_epoch: float = math.nan
    training_time: float = math.nan
    train_accuracy: float = math.nan
    validation_accuracy: float = math.nan
    test_accuracy: float = math.nan
    checkpoint_path: str = ""

    _NAMES = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy",
              "test_accuracy")  # fmt: skip

    def encode(self) -> bytes:
        out = b"".join(
            _double(k, getattr(self, name))
            for k, name in enumerate(self._NAMES, start=1)
            if not math.isnan(getattr(self, name))
        )
        if self.checkpoint_path:
            path = self.checkpoint_path.encode()
            out += varint(6 << 3 | 2) + varint(len(path)) + path
        return out

    @classmethod
    def decode(cls, buf: bytes) -> Evaluation:
        values: dict[str, float | str] = {}
        for number, wire, raw in fields(buf):
            if 1 <= number <= 5:
                name = cls._NAMES[number - 1]
                values[name] = _as_double(wire, raw, f"EvaluationData.{name}")
            elif number == 6 and wire == 2 and isinstance(raw, bytes):
                values["checkpoint_path"] = raw.decode("utf-8", "replace")
        return cls(**values)  # type: ignore[arg-type]


_DOUBLE_KEY = {(k << 3) | 1: k - 1 for k in range(1, 6)}  # fields 1..5 as doubles: 1-byte keys
_UNPACK_DOUBLE = struct.Struct("<d").unpack_from


def evaluation_values(buf: bytes) -> list[float]:
    """The five doubles of an ``EvaluationData`` (NaN where absent), fast: a message made of
    one-byte-key doubles (what NAS-Bench-101 writes) is read in one tight loop; any other
    layout goes through :meth:`Evaluation.decode`."""
    out = [math.nan] * 5
    pos, n = 0, len(buf)
    while pos < n:
        k = _DOUBLE_KEY.get(buf[pos])
        if k is None or pos + 9 > n:
            ev = Evaluation.decode(buf)
            return [getattr(ev, name) for name in Evaluation._NAMES]
        out[k] = _UNPACK_DOUBLE(buf, pos + 1)[0]
        pos += 9
    return out


@dataclass(frozen=True)
class ModelMetrics:
    """NAS-Bench-101's ``ModelMetrics``: evaluations (at the start, halfway and end of
    training), the parameter count and the total time."""

    evaluations: tuple[Evaluation, ...] = ()
    trainable_parameters: int | None = None
    total_time: float = math.nan

    def encode(self) -> bytes:
        out = b""
        for ev in self.evaluations:
            body = ev.encode()
            out += varint(1 << 3 | 2) + varint(len(body)) + body
        if self.trainable_parameters is not None:
            out += varint(2 << 3 | 0) + varint(self.trainable_parameters)
        if not math.isnan(self.total_time):
            out += _double(3, self.total_time)
        return out

    @classmethod
    def decode(cls, buf: bytes) -> ModelMetrics:
        """Parse a serialized ``ModelMetrics`` (raises :class:`WireError` on bad bytes)."""
        evals = []
        params: int | None = None
        total = math.nan
        for number, wire, raw in fields(buf):
            if number == 1 and wire == 2 and isinstance(raw, bytes):
                evals.append(Evaluation.decode(raw))
            elif number == 2 and wire == 0 and isinstance(raw, int):
                params = raw - (1 << 64) if raw >= 1 << 63 else raw
            elif number == 3:
                total = _as_double(wire, raw, "ModelMetrics.total_time")
        return cls(tuple(evals), params, total)
