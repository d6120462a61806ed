class RecordId:
    """A database id in a URL: 1-18 digits, so it always fits a 64-bit integer column.

    Django's `int` converter accepts any length, and a 30-digit id would reach the database
    and fail there with a 500 instead of the 404 every unknown id gets.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
