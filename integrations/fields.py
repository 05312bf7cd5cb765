"""The encrypted credentials field, tolerant of a value no key in `FERNET_KEYS` decrypts.

fernet_fields decrypts as rows are read, so one such value (a key removed before
`rotate_credentials_key` ran) failed every query that loaded its row: listing the connections
to sync stopped the syncs of every merchant. Here that value is read as `Undecryptable`, which
keeps the ciphertext and is written back unchanged; the connection's own runs say what to do.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from fernet_fields import EncryptedTextField


class Undecryptable(str):
    """A stored value no key in `FERNET_KEYS` decrypts: empty as text, its ciphertext kept as it is."""

    ciphertext: bytes

    def __new__(cls, ciphertext: bytes) -> Undecryptable:
        value = super().__new__(cls, "")
        value.ciphertext = ciphertext
        return value

    def __repr__(self) -> str:
        return "<Undecryptable>"


class KeptEncryptedTextField(EncryptedTextField):
    """`EncryptedTextField` that reads an undecryptable value as `Undecryptable` and saves it back as it was."""

    def from_db_value(self, value, expression, connection, *args):
        try:
            return super().from_db_value(value, expression, connection, *args)
        except InvalidToken:
            return Undecryptable(bytes(value))

    def get_db_prep_save(self, value, connection):
        if isinstance(value, Undecryptable):
            return connection.Database.Binary(value.ciphertext)
        return super().get_db_prep_save(value, connection)
