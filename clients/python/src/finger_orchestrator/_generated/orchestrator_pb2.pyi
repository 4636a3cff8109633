from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Ack(_message.Message):
    __slots__ = ["seq"]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ["add", "full", "remove", "seq"]
    ADD_FIELD_NUMBER: _ClassVar[int]
    FULL_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    add: _containers.RepeatedCompositeFieldContainer[Stream]
    full: bool
    remove: _containers.RepeatedScalarFieldContainer[str]
    seq: int
    def __init__(self, seq: _Optional[int] = ..., full: bool = ..., add: _Optional[_Iterable[_Union[Stream, _Mapping]]] = ..., remove: _Optional[_Iterable[str]] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ["ack", "heartbeat", "hello", "leave"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    LEAVE_FIELD_NUMBER: _ClassVar[int]
    ack: Ack
    heartbeat: Heartbeat
    hello: Hello
    leave: Leave
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., leave: _Optional[_Union[Leave, _Mapping]] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ["assignment", "go_away", "heartbeat_ack", "welcome"]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    GO_AWAY_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    assignment: Assignment
    go_away: GoAway
    heartbeat_ack: HeartbeatAck
    welcome: Welcome
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., assignment: _Optional[_Union[Assignment, _Mapping]] = ..., go_away: _Optional[_Union[GoAway, _Mapping]] = ..., heartbeat_ack: _Optional[_Union[HeartbeatAck, _Mapping]] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ["leader_address", "lease_extension_ms", "reason", "reconnect_after_ms"]
    LEADER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXTENSION_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECONNECT_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    leader_address: str
    lease_extension_ms: int
    reason: str
    reconnect_after_ms: int
    def __init__(self, reason: _Optional[str] = ..., reconnect_after_ms: _Optional[int] = ..., lease_extension_ms: _Optional[int] = ..., leader_address: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ["metrics", "running_streams", "seq"]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_STREAMS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    metrics: SystemMetrics
    running_streams: int
    seq: int
    def __init__(self, metrics: _Optional[_Union[SystemMetrics, _Mapping]] = ..., running_streams: _Optional[int] = ..., seq: _Optional[int] = ...) -> None: ...

class HeartbeatAck(_message.Message):
    __slots__ = ["seq"]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class HeldStream(_message.Message):
    __slots__ = ["epoch", "stream_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ..., epoch: _Optional[int] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ["capacity", "held", "instance_id", "labels", "version"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    held: _containers.RepeatedCompositeFieldContainer[HeldStream]
    instance_id: str
    labels: _containers.ScalarMap[str, str]
    version: str
    def __init__(self, instance_id: _Optional[str] = ..., capacity: _Optional[int] = ..., held: _Optional[_Iterable[_Union[HeldStream, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., version: _Optional[str] = ...) -> None: ...

class Leave(_message.Message):
    __slots__ = ["reason", "return_within_ms"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RETURN_WITHIN_MS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    return_within_ms: int
    def __init__(self, reason: _Optional[str] = ..., return_within_ms: _Optional[int] = ...) -> None: ...

class Stream(_message.Message):
    __slots__ = ["epoch", "id", "metadata", "name", "url"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    id: str
    metadata: _containers.ScalarMap[str, str]
    name: str
    url: str
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., name: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., epoch: _Optional[int] = ...) -> None: ...

class SystemMetrics(_message.Message):
    __slots__ = ["cpu_percent", "disk_free_gb", "disk_percent", "disk_total_gb", "load_average", "memory_percent", "memory_total_gb", "memory_used_gb", "uptime_seconds"]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DISK_FREE_GB_FIELD_NUMBER: _ClassVar[int]
    DISK_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DISK_TOTAL_GB_FIELD_NUMBER: _ClassVar[int]
    LOAD_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_GB_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_GB_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    disk_free_gb: float
    disk_percent: float
    disk_total_gb: float
    load_average: _containers.RepeatedScalarFieldContainer[float]
    memory_percent: float
    memory_total_gb: float
    memory_used_gb: float
    uptime_seconds: float
    def __init__(self, cpu_percent: _Optional[float] = ..., memory_percent: _Optional[float] = ..., memory_used_gb: _Optional[float] = ..., memory_total_gb: _Optional[float] = ..., disk_percent: _Optional[float] = ..., disk_free_gb: _Optional[float] = ..., disk_total_gb: _Optional[float] = ..., load_average: _Optional[_Iterable[float]] = ..., uptime_seconds: _Optional[float] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ["heartbeat_interval_ms", "lease_ttl_ms", "reconnect_grace_ms", "session_id"]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    RECONNECT_GRACE_MS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_ms: int
    lease_ttl_ms: int
    reconnect_grace_ms: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., lease_ttl_ms: _Optional[int] = ..., reconnect_grace_ms: _Optional[int] = ...) -> None: ...
