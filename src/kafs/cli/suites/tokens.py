"""tokens: list the tokens held (here: in the kafs token store).

OpenAFS 1.8.9's tokens has no argument parser: any argument prints
:data:`USAGE` on stdout and exits 0.  kafs adds ``-json`` (alone).  The
implementation is :mod:`kafs.cli.tokens`.
"""

USAGE = "Usage: tokens [-help]\n"
HEADER = "\nTokens held by the Cache Manager:\n\n"
END = "   --End of list--\n"
JSON_SWITCH = "-json"
