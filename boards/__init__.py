"""Board profiles as data: one TOML file per supported Raspberry Pi."""

from boards.profile import (
    AUTO,
    PIN_ROLES,
    Board,
    BoardError,
    UnknownBoard,
    auto_board,
    detect,
    known_boards,
    load_board,
    parse_board,
    read_model,
    resolve,
    with_overrides,
)

__all__ = ["AUTO", "PIN_ROLES", "Board", "BoardError", "UnknownBoard", "auto_board", "detect",
           "known_boards", "load_board", "parse_board", "read_model", "resolve", "with_overrides"]
