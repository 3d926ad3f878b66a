"""The config error: names the file, the key and the problem (several at once when a file has several)."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem, naming the file and the key."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + problem)
        self.errors: list[ConfigError] = [self]

    @classmethod
    def several(cls, errors: list[ConfigError]) -> ConfigError:
        """One error carrying every problem found, one per line in its message."""
        if len(errors) == 1:
            return errors[0]
        first = errors[0]
        combined = cls(first.file, first.key, first.problem)
        combined.errors = list(errors)
        combined.args = ("\n".join(str(e) for e in errors),)
        return combined
