"""Unit tests of kafs.cli.cmd: the rules of OpenAFS's cmd library."""

from __future__ import annotations

import io

import pytest

from kafs.cli import cmd as C
from kafs.cli.cmd import (Parser, Suite, cmd, flag, opt, opt_list, req,
                          req_flag, req_list)


def make(*commands, single=False, extra=()):
    suite = Suite("tool", commands, "tool 1.0", single=single,
                  extra_params=extra)
    out, err = io.StringIO(), io.StringIO()
    return Parser(suite, out=out, err=err), out, err


def parse(p, *argv):
    code, res = p.parse(["tool", *argv])
    return code, (res.values if res else None), (res.syntax.name if res else None)


EXAMINE = cmd("examine", "everything about the volume",
              req("-id", "volume name or ID"),
              flag("-extended", "list extended volume fields"),
              flag("-format", "machine readable format"),
              opt("-cell", "cell name", aliases=("-c",)),
              flag("-noauth", "don't authenticate"),
              flag("-noresolve", "don't resolve addresses"),
              opt("-config", "config location"),
              aliases=("e", "volinfo"))
LISTVOL = cmd("listvol", "list volumes", opt("-server", "machine"))
LISTVLDB = cmd("listvldb", "list vldb", opt("-name", "name"))
RELEASE = cmd("release", "release a volume",
              req("-id", "volume name or ID"),
              flag("-force", "force", aliases=("-f",)),
              flag("-stayonline", "hidden", hidden=True),
              flag("-force-reclone", "reclone"))
ADDUSER = cmd("adduser", "add a user to a group",
              req_list("-user", "user name"), req_list("-group", "group name"),
              opt("-cell", "cell name"))
CREATE = cmd("creategroup", "create a new group",
             req_list("-name", "group name"), opt("-owner", "owner"),
             opt_list("-id", "id"), opt("-cell", "cell"))
HIDDENCMD = cmd("monitor", "monitor", opt("-server", "host"), hidden=True,
                aliases=("mariner",))
WSCELL = cmd("wscell", "list workstation's cell")
UUID = cmd("uuid", "manage uuid", req_flag("-generate", "generate"))
DELENTRY = cmd("delentry", "delete",
               opt_list("-id", "id"), opt("-prefix", "prefix"),
               flag("-noexecute", "", hidden=True), opt("-hid", "h", hidden=True),
               opt("-server", "server"))


@pytest.fixture
def p():
    return make(EXAMINE, LISTVOL, LISTVLDB, RELEASE, ADDUSER, CREATE,
                HIDDENCMD, WSCELL, UUID, DELENTRY)[0]


# -- subcommand lookup -------------------------------------------------------

def test_exact_prefix_alias(p):
    assert parse(p, "examine", "x")[2] == "examine"
    assert parse(p, "exa", "x")[2] == "examine"
    assert parse(p, "e", "x")[2] == "e"            # alias, exact
    assert parse(p, "volinfo", "x")[2] == "volinfo"
    assert parse(p, "volin", "x")[2] == "volinfo"  # aliases abbreviate too


def test_ambiguous_and_unknown(p):
    code, _, _ = parse(p, "list")
    assert code == C.CMD_UNKNOWNCMD
    assert p.err.getvalue() == ("tool: Ambiguous operation 'list'; type "
                                "'tool help' for list\n")
    p.err.truncate(0), p.err.seek(0)
    assert parse(p, "zz")[0] == C.CMD_UNKNOWNCMD
    assert "Unrecognized operation 'zz'" in p.err.getvalue()


def test_exact_name_beats_longer_prefix():
    p, out, err = make(cmd("lock", "l"), cmd("locks", "ls"))
    assert parse(p, "lock")[2] == "lock"
    assert parse(p, "lo")[0] == C.CMD_UNKNOWNCMD


def test_alias_does_not_make_prefix_ambiguous():
    p, out, err = make(cmd("examine", "x", aliases=("exam",)))
    assert parse(p, "ex")[2] == "exam"        # first in sort order wins


def test_hidden_command_needs_full_name(p):
    assert parse(p, "mon")[0] == C.CMD_UNKNOWNCMD
    assert parse(p, "monitor")[2] == "monitor"
    assert parse(p, "mariner")[2] == "mariner"


def test_no_subcommand(p):
    code, _, _ = parse(p)
    assert code == C.CMD_USAGE
    assert p.out.getvalue() == ("tool: Type 'tool help' or 'tool help <topic>' "
                                "for help\n")


# -- switches ----------------------------------------------------------------

def test_switch_prefix_and_alias(p):
    assert parse(p, "examine", "-i", "v")[1] == {"-id": "v"}
    assert parse(p, "examine", "v", "-c", "cell")[1] == {"-id": "v", "-cell": "cell"}
    assert parse(p, "examine", "v", "-ce", "cell")[1]["-cell"] == "cell"
    assert parse(p, "examine", "v", "-ext")[1] == {"-id": "v", "-extended": True}


def test_ambiguous_switch(p):
    code, _, _ = parse(p, "examine", "v", "-no")
    assert code == C.CMD_UNKNOWNSWITCH
    assert p.err.getvalue() == ("tool: Unrecognized or ambiguous switch '-no'; "
                                "type 'tool help examine' for detailed help\n")


def test_exact_switch_beats_prefix(p):
    assert parse(p, "release", "v", "-force")[1] == {"-id": "v", "-force": True}
    assert parse(p, "release", "v", "-forc")[0] == C.CMD_UNKNOWNSWITCH
    assert parse(p, "release", "v", "-f")[1]["-force"] is True


def test_hidden_switch_needs_full_name(p):
    assert parse(p, "release", "v", "-stay")[0] == C.CMD_UNKNOWNSWITCH
    assert parse(p, "release", "v", "-stayonline")[1]["-stayonline"] is True


def test_long_style_and_embedded_value(p):
    assert parse(p, "examine", "--id", "v")[1] == {"-id": "v"}
    assert parse(p, "examine", "-id=v")[1] == {"-id": "v"}
    assert parse(p, "examine", "-id=a=b")[0] == C.CMD_UNKNOWNSWITCH  # last '='
    assert parse(p, "examine", "--c", "x")[0] == C.CMD_UNKNOWNSWITCH  # too short


def test_flag_with_value(p):
    assert parse(p, "examine", "v", "-extended=1")[0] == C.CMD_TOOMANY
    assert p.err.getvalue() == "tool: Switch '-extended' doesn't take an argument\n"


def test_embedded_second_value_is_reported_but_not_fatal(p):
    code, vals, _ = parse(p, "examine", "-id=a", "-id=b")
    assert code == 0 and vals == {"-id": "a"}
    assert p.err.getvalue() == "tool: Too many values after switch -id\n"


def test_negative_number_is_a_value(p):
    assert parse(p, "examine", "-5")[1] == {"-id": "-5"}


# -- positional parameters ---------------------------------------------------

def test_positional_fill_skips_flags(p):
    assert parse(p, "examine", "v", "c")[1] == {"-id": "v", "-cell": "c"}
    assert parse(p, "examine", "v", "c", "conf")[1]["-config"] == "conf"
    code, _, _ = parse(p, "examine", "v", "c", "conf", "x")
    assert code == C.CMD_NOTLIST
    assert p.err.getvalue() == "tool: Too many values after switch -config\n"


def test_positional_flag_does_not_end_positional_mode(p):
    assert parse(p, "examine", "v", "-extended", "c")[1] == {
        "-id": "v", "-extended": True, "-cell": "c"}


def test_words_after_a_switch_go_to_it(p):
    code, _, _ = parse(p, "examine", "-id", "v", "c")
    assert code == C.CMD_NOTLIST
    assert parse(p, "adduser", "-user", "a", "b", "-group", "g", "h")[1] == {
        "-user": ["a", "b"], "-group": ["g", "h"]}


def test_last_list_expands(p):
    assert parse(p, "adduser", "a", "b", "c")[1] == {"-user": ["a"],
                                                     "-group": ["b", "c"]}
    # -id is the last list: -name takes one word, -owner one, -id the rest
    assert parse(p, "creategroup", "n", "o", "1", "2", "3")[1] == {
        "-name": ["n"], "-owner": "o", "-id": ["1", "2", "3"]}


def test_positional_skips_unnamed_hidden(p):
    assert parse(p, "delentry", "a", "pre", "srv")[1] == {
        "-id": ["a", "pre", "srv"]}   # -id expands (last list)
    assert parse(p, "delentry", "-prefix", "x")[1] == {"-prefix": "x"}


def test_too_many_arguments(p):
    code, _, _ = parse(p, "wscell", "x")
    assert code == C.CMD_TOOMANY
    assert p.err.getvalue() == "tool: Too many arguments\n"


# -- required / incomplete ---------------------------------------------------

def test_missing_required(p):
    assert parse(p, "examine")[0] == C.CMD_TOOFEW
    assert p.err.getvalue() == "tool: Missing required parameter '-id'\n"


def test_required_flag(p):
    assert parse(p, "uuid")[0] == C.CMD_TOOFEW
    assert parse(p, "uuid", "-gen")[1] == {"-generate": True}


def test_switch_without_value(p):
    assert parse(p, "examine", "v", "-cell")[0] == C.CMD_TOOFEW
    assert p.err.getvalue() == "tool:  The field '-cell' isn't completed properly\n"


def test_processed_mark_survives_a_failed_parse(p):
    # cmd.c clears CMD_PROCESSED only on the success path: after this
    # failure (on -id, before -cell's slot is reached) -cell stays marked,
    # and every later parse fails until -cell gets a value (checked
    # against OpenAFS's "pts interactive" with sleep -cell -delay).
    assert parse(p, "examine", "-cell", "-id")[0] == C.CMD_TOOFEW
    p.err.truncate(0), p.err.seek(0)
    assert parse(p, "examine", "v")[0] == C.CMD_TOOFEW
    assert "The field '-cell' isn't completed properly" in p.err.getvalue()
    assert parse(p, "examine", "v")[0] == C.CMD_TOOFEW
    assert parse(p, "examine", "v", "-cell", "c")[0] == 0
    assert parse(p, "examine", "v")[0] == 0


# -- -help, help, apropos ----------------------------------------------------

def test_dash_help(p):
    assert parse(p, "examine", "-help")[0] == C.CMD_HELP
    assert p.out.getvalue() == (
        "Usage: tool examine -id <volume name or ID> [-extended] [-format]\n"
        "         [-cell | -c <cell name>] [-noauth] [-noresolve]\n"
        "         [-config <config location>] [-help]\n")


def test_help_wins_over_missing_but_not_over_bad_switch(p):
    assert parse(p, "examine", "-he")[0] == C.CMD_HELP
    assert parse(p, "examine", "-help", "-zz")[0] == C.CMD_UNKNOWNSWITCH


def test_lone_dash_is_help_when_it_is_the_only_switch(p):
    assert parse(p, "wscell", "-")[0] == C.CMD_HELP


def test_help_listing_and_topics(p):
    assert p.dispatch(["tool", "help"]) == 0
    text = p.out.getvalue()
    assert text.startswith("tool: Commands are:\nadduser         add a user")
    assert "monitor" not in text and "volinfo" not in text
    assert "version         show version\n" in text


def test_help_topic_alias(p):
    p.dispatch(["tool", "help", "e"])
    assert p.out.getvalue().startswith(
        "tool e: everything about the volume (alias for examine)\n"
        "Usage: tool e -id")


def test_help_topic_real_and_where(p):
    p.dispatch(["tool", "help", "examine"])
    lines = p.out.getvalue().splitlines()
    assert lines[0] == "tool examine: everything about the volume "
    assert lines[1] == "aliases: e volinfo "
    assert lines[-3:] == ["       -format     machine readable format",
                          "       -noauth     don't authenticate",
                          "       -noresolve  don't resolve addresses"]


def test_help_unknown_ambiguous_hidden(p):
    assert p.dispatch(["tool", "help", "zz"]) == C.CMD_UNKNOWNCMD
    assert p.dispatch(["tool", "help", "list"]) == C.CMD_UNKNOWNCMD
    assert p.dispatch(["tool", "help", "monitor"]) == C.CMD_UNKNOWNCMD
    assert p.err.getvalue() == ("tool: Unknown topic 'zz'\n"
                                "tool: Ambiguous topic 'list'; use 'apropos' to list\n"
                                "tool: Unknown topic 'monitor'\n")
    # the code is that of the last topic
    assert p.dispatch(["tool", "help", "zz", "examine"]) == 0


def test_apropos(p):
    assert p.dispatch(["tool", "apropos", "group"]) == 0
    assert p.out.getvalue() == ("adduser: add a user to a group\n"
                                "creategroup: create a new group\n")
    p.out.truncate(0), p.out.seek(0)
    p.dispatch(["tool", "apropos", "qqq"])
    assert p.out.getvalue() == "Sorry, no commands found\n"


def test_hidden_help_and_version_synonyms(p):
    assert p.dispatch(["tool", "-help"]) == 0
    assert p.out.getvalue().startswith("tool: Commands are:")
    p.out.truncate(0), p.out.seek(0)
    assert p.dispatch(["tool", "--version"]) == 0
    assert p.out.getvalue() == "tool 1.0\n"
    assert parse(p, "-h")[0] == C.CMD_UNKNOWNCMD


# -- usage wrapping ------------------------------------------------------------

def test_usage_wraps_at_78():
    long = cmd("x", "h", *[opt("-p%02d" % i, "value number %d" % i)
                           for i in range(6)])
    p, out, err = make(long)
    p.parse(["tool", "x", "-help"])
    for line in out.getvalue().splitlines():
        assert len(line) <= 78
    assert out.getvalue().splitlines()[1].startswith("         [-p")


def test_list_and_single_or_flag_in_usage():
    c = cmd("x", "h", req_list("-a", "many"), C.Param("-b", C.SINGLE_OR_FLAG, True, "maybe"),
            flag("-c"))
    p, out, err = make(c)
    p.parse(["tool", "x", "-help"])
    assert out.getvalue() == "Usage: tool x -a <many>+ [-b [<maybe>]] [-c] [-help]\n"
    p, out, err = make(c)
    code, res = p.parse(["tool", "x", "a", "-b"])
    assert res.values == {"-a": ["a"], "-b": True}


# -- extra (hidden, full-name-only) switches: -json ----------------------------

def test_extra_switch_changes_no_abbreviation():
    j = flag("-json", "json", hidden=True, noabbrev=True)
    p, out, err = make(WSCELL, EXAMINE, extra=(j,))
    assert parse(p, "wscell", "-")[0] == C.CMD_HELP        # still unique
    assert parse(p, "examine", "v", "-j")[0] == C.CMD_UNKNOWNSWITCH
    assert parse(p, "examine", "v", "-json")[1]["-json"] is True
    assert parse(p, "examine", "v", "--json")[1]["-json"] is True
    p.parse(["tool", "examine", "-help"])
    assert "json" not in out.getvalue()


# -- tools without subcommands -------------------------------------------------

def test_single_command_tool():
    c = C.Command(None, None, (req("-servers", "server machine"),
                               opt("-port", "IP port"),
                               flag("-long", "print all info")))
    p, out, err = make(c, single=True)
    assert p.parse(["udebug"])[0] == C.CMD_USAGE
    assert out.getvalue() == "udebug: Type 'udebug -help' for help\n"
    out.truncate(0), out.seek(0)
    assert p.parse(["udebug", "-help"])[0] == C.CMD_HELP
    assert out.getvalue() == ("Usage: udebug -servers <server machine> "
                              "[-port <IP port>] [-long] [-help]\n"
                              "Where: -long  print all info\n")
    code, res = p.parse(["udebug", "h", "7001", "-l"])
    assert res.values == {"-servers": "h", "-port": "7001", "-long": True}
    assert p.parse(["udebug", "-x"])[0] == C.CMD_UNKNOWNSWITCH
    assert err.getvalue() == ("udebug: Unrecognized or ambiguous switch '-x'; "
                              "type 'udebug -help' for detailed help\n")


def test_empty_program_name(p):
    code, _ = p.parse(["", "zz"])
    assert p.err.getvalue() == "Unrecognized operation 'zz'; type 'help' for list\n"
