"""Runtimes behind one interface: LiteRT (XNNPack, else built-in kernels) and ONNX Runtime.

These are the only places that import LiteRT or ONNX Runtime. A runtime is opened in two
steps so that a model whose tensors do not fit is refused with that reason (checked by the
caller between the two) rather than with the error its kernels raise when prepared:
`open_runtime` reads the tensors, `Runtime.prepare` makes the model runnable.

LiteRT's default op resolver applies the XNNPack delegate (and resolves MediaPipe's custom
`Convolution2DTransposeBias`). XNNPack refuses some quantised models; those are prepared
again with LiteRT's built-in kernels, which is said once through `log`. ONNX Runtime is an
optional extra, imported only for `.onnx` files. Which suffix picks which runtime, the
extra that installs it and where its version is recorded are the runtimes' catalogue
(runtime_kinds.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import UsageError
from .runtime_kinds import RUNTIME_KINDS, install_hint, runtime_kind

Log = Callable[[str], None]

ONNX_TYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(uint8)": "uint8", "tensor(int8)": "int8", "tensor(int32)": "int32",
    "tensor(int64)": "int64",
}
# ONNX Runtime's severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal. Warnings such
# as "initializer appears in graph inputs" are harmless and would flood every worker.
ONNX_LOG_SEVERITY = 3
# ONNX Runtime's record in the runtimes' catalogue (runtime_kinds.py: suffix, extra).
ONNX = next(kind for kind in RUNTIME_KINDS if kind.key == "onnx")


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the runtime reports it; scale 0 means not quantised."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    @property
    def quantised(self) -> bool:
        return self.scale > 0 and np.issubdtype(np.dtype(self.dtype), np.integer)


class Runtime(Protocol):
    """What a segmenter needs from a runtime."""

    name: str  # the runtime actually used, e.g. "litert-xnnpack", "onnxruntime 1.20.1"
    input: TensorInfo
    output: TensorInfo

    def prepare(self, log: Log | None = None) -> None:
        """Make the model runnable (allocate, fall back); UsageError when no way works."""

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """Invoke on one input tensor of `input.shape` / `input.dtype`; the first output."""

    def run_many(self, tensors: np.ndarray) -> np.ndarray:
        """Invoke on input tensors stacked on the batch axis; the outputs stacked alike.
        The outputs are those `run` gives, bit for bit."""


def open_runtime(path: Path | str, threads: int = 1, xnnpack: bool = True) -> Runtime:
    """The runtime for a model file, chosen by its suffix; its tensors are readable.

    `xnnpack=False` runs a .tflite model on LiteRT's built-in kernels from the start.
    """
    path = Path(path)
    if runtime_kind(path) is ONNX:
        return OnnxRuntime(path, threads)
    return LiteRTRuntime(path, threads, xnnpack)  # .tflite, and what LiteRT may refuse


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class LiteRTRuntime:
    """A .tflite model in LiteRT: XNNPack first, LiteRT's built-in kernels if it refuses.

    `run_many` feeds full groups of BATCH images to a second interpreter resized to that
    batch: one invoke for four images of a small model costs about a fifth less CPU per
    image than four invokes. The first group is also run one by one and compared: a model
    whose batched outputs differ by a bit, or that cannot be resized, runs one by one.
    """

    XNNPACK = "litert-xnnpack"
    BUILTIN = "litert-builtin"
    BATCH = 4

    def __init__(self, path: Path, threads: int = 1, xnnpack: bool = True) -> None:
        self.path = path
        self.threads = threads
        self.name = self.XNNPACK if xnnpack else self.BUILTIN
        self._interpreter = self._interpreter_with(default_delegates=xnnpack)
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) < 1:
            raise UsageError(f"model {path}: expected one input tensor and at least one "
                             f"output, found {len(inputs)} and {len(outputs)}")
        self.input = _litert_tensor(inputs[0])
        self.output = _litert_tensor(outputs[0])
        self._input_index = inputs[0]["index"]
        self._output_index = outputs[0]["index"]
        # The batched interpreter: None until first wanted, then an Interpreter, or False
        # where batching is unavailable or changed a bit of the outputs.
        self._batched = None
        self._batched_checked = False

    def _interpreter_with(self, default_delegates: bool):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = (OpResolverType.AUTO if default_delegates
                    else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        try:
            return Interpreter(model_path=str(self.path), num_threads=self.threads,
                               experimental_op_resolver_type=resolver)
        except (ValueError, RuntimeError) as error:
            raise UsageError(f"model {self.path}: not a loadable TFLite model "
                             f"({first_line(error)})") from None

    def prepare(self, log: Log | None = None) -> None:
        try:
            self._interpreter.allocate_tensors()
            return
        except (ValueError, RuntimeError) as error:
            refusal = first_line(error)
        if self.name == self.BUILTIN:
            raise UsageError(f"model {self.path}: LiteRT's built-in kernels cannot prepare it "
                             f"({refusal})")
        builtin = self._interpreter_with(default_delegates=False)
        try:
            builtin.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise UsageError(f"model {self.path}: LiteRT cannot prepare it, neither with "
                             f"XNNPack nor with its built-in kernels ({first_line(error)})"
                             ) from None
        self._interpreter = builtin
        self.name = self.BUILTIN
        if log is not None:
            log(f"model {self.path.name}: the XNNPack delegate refused it ({_short(refusal)}); "
                "running it on LiteRT's built-in kernels (slower)")

    def run(self, tensor: np.ndarray) -> np.ndarray:
        return self._invoke(self._interpreter, tensor)

    def run_many(self, tensors: np.ndarray) -> np.ndarray:
        outputs, start = [], 0
        while len(tensors) - start >= self.BATCH and self._batched_interpreter():
            outputs.append(self._run_batch(tensors[start:start + self.BATCH]))
            start += self.BATCH
        outputs.extend(self.run(tensors[i:i + 1]) for i in range(start, len(tensors)))
        return np.concatenate(outputs)

    def _invoke(self, interpreter, tensor: np.ndarray) -> np.ndarray:  # noqa: ANN001
        interpreter.set_tensor(self._input_index, tensor)
        interpreter.invoke()
        return interpreter.get_tensor(self._output_index)

    def _run_batch(self, tensors: np.ndarray) -> np.ndarray:
        try:
            batched = self._invoke(self._batched, tensors)
        except (ValueError, RuntimeError):
            # A graph whose shapes are fixed inside (a transposed convolution's output
            # shape, a reshape) resizes but cannot run: one image per invoke.
            self._batched = False
            return np.concatenate([self.run(tensors[i:i + 1]) for i in range(len(tensors))])
        if not self._batched_checked:
            self._batched_checked = True
            singles = np.concatenate([self.run(tensors[i:i + 1]) for i in range(len(tensors))])
            if not np.array_equal(batched, singles):
                self._batched = False
                return singles
        return batched

    def _batched_interpreter(self):  # noqa: ANN202 - LiteRT's Interpreter, or None
        if self._batched is None:
            self._batched = False
            if self.input.shape and self.input.shape[0] == 1:
                try:
                    interpreter = self._interpreter_with(self.name == self.XNNPACK)
                    interpreter.resize_tensor_input(self._input_index,
                                                    [self.BATCH, *self.input.shape[1:]])
                    interpreter.allocate_tensors()
                    self._batched = interpreter
                except (UsageError, ValueError, RuntimeError):
                    pass  # a model with a fixed batch: one image per invoke
        return self._batched or None


def _litert_tensor(details: dict) -> TensorInfo:
    scale, zero_point = details.get("quantization", (0.0, 0))
    return TensorInfo(str(details["name"]), tuple(int(d) for d in details["shape"]),
                      np.dtype(details["dtype"]).name, float(scale), int(zero_point))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class OnnxRuntime:
    """An .onnx model in ONNX Runtime on the CPU, its start-up warnings silenced."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise UsageError(f"model {path}: .onnx models need ONNX Runtime; install it with "
                             f"{install_hint(ONNX)}") from None
        onnxruntime.set_default_logger_severity(ONNX_LOG_SEVERITY)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = ONNX_LOG_SEVERITY
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ONNX Runtime raises its own classes for a bad file
            raise UsageError(f"model {path}: ONNX Runtime cannot load it "
                             f"({_short(first_line(error))})") from None
        self.path = path
        self.name = f"onnxruntime {onnxruntime.__version__}"
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise UsageError(f"model {path}: expected one input tensor and at least one "
                             f"output, found {len(inputs)} and {len(outputs)}")
        self.input = _onnx_tensor(inputs[0], path)
        self.output = _onnx_tensor(outputs[0], path)
        if any(d < 0 for d in self.input.shape):
            raise UsageError(f"model {path}: input tensor {inputs[0].name} has a dynamic size "
                             f"{inputs[0].shape}; export the model with a fixed input size")
        if any(d < 0 for d in self.output.shape):
            # A dynamic output size is settled by one run on zeros.
            probe = self.run(np.zeros(self.input.shape, np.dtype(self.input.dtype)))
            self.output = TensorInfo(self.output.name, tuple(probe.shape), probe.dtype.name)

    def prepare(self, log: Log | None = None) -> None:
        """An InferenceSession is ready as soon as it exists."""

    def run(self, tensor: np.ndarray) -> np.ndarray:
        return self._session.run([self.output.name], {self.input.name: tensor})[0]

    def run_many(self, tensors: np.ndarray) -> np.ndarray:
        """One image per run: an exported batch axis is often fixed at 1."""
        return np.concatenate([self.run(tensors[i:i + 1]) for i in range(len(tensors))])


def _onnx_tensor(node, path: Path) -> TensorInfo:
    dtype = ONNX_TYPES.get(node.type)
    if dtype is None:
        raise UsageError(f"model {path}: tensor {node.name} has type {node.type}, which "
                         "fairness-eval cannot feed or read")
    shape = list(node.shape)
    if shape and not isinstance(shape[0], int):
        shape[0] = 1  # a symbolic batch dimension: one image at a time
    return TensorInfo(node.name, tuple(d if isinstance(d, int) else -1 for d in shape), dtype)
