"""Unit tests of the KTAP parser (tools/runner/ktap.py)."""

import textwrap
import unittest

import ktap


def parse(text: str) -> ktap.ParseResult:
    return ktap.parse(textwrap.dedent(text).strip("\n").splitlines())


GOOD = """
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: heap_basic
        1..3
        ok 1 alloc
        ok 2 - free
        ok 3 big # SKIP not built
    # heap_basic: pass:2 fail:0 skip:1 total:3
    ok 1 heap_basic
    ok 2 sched_basic
    """


class GoodDocuments(unittest.TestCase):
    def test_nested_document_passes(self):
        r = parse(GOOD)
        self.assertTrue(r.found_header)
        self.assertEqual(r.problems(), [])
        self.assertTrue(r.ok)
        self.assertTrue(r.plan_complete)
        self.assertEqual((r.passed, r.failed, r.skipped), (3, 0, 1))
        self.assertEqual([c.path for c in r.cases],
                         ["heap_basic.alloc", "heap_basic.free",
                          "heap_basic.big", "sched_basic"])
        self.assertEqual(r.cases[2].status, ktap.SKIP)
        self.assertEqual(r.cases[2].directive, "SKIP not built")

    def test_unknown_lines_and_text_before_header_are_ignored(self):
        r = parse("""
            SeaBIOS (version 1.16)
            Booting from DVD/CD...
            KTAP version 1
            1..1
            [cpu1] scheduler: idle
            this line means nothing
                KTAP version 1
                1..1
            some printk from another CPU
                ok 1 case
            ok 1 suite
            trailing noise
            """)
        self.assertEqual(r.problems(), [])
        self.assertEqual(r.passed, 1)

    def test_skip_on_not_ok_is_a_skip(self):
        r = parse("""
            KTAP version 1
            1..2
            not ok 1 a # SKIP no hardware
            ok 2 b
            """)
        self.assertEqual(r.problems(), [])
        self.assertEqual((r.passed, r.failed, r.skipped), (1, 0, 1))

    def test_timestamp_prefix_is_stripped(self):
        r = parse("""
            [    0.100] KTAP version 1
            [    0.101] 1..1
            [    0.102]     KTAP version 1
            [    0.103]     1..1
            [    0.104]     ok 1 case
            [   10.105] ok 1 suite
            """)
        self.assertEqual(r.problems(), [])
        self.assertEqual(r.cases[0].path, "suite.case")

    def test_diagnostics_attach_to_the_next_result(self):
        r = parse("""
            KTAP version 1
            1..1
                KTAP version 1
                1..1
                # heap.cpp:42 expected 0 got 1
                not ok 1 double_free
            not ok 1 heap_basic
            """)
        self.assertEqual(r.cases[0].diagnostics,
                         ["# heap.cpp:42 expected 0 got 1"])

    def test_tap14_subtest_without_header_is_accepted(self):
        r = parse("""
            TAP version 14
            1..1
                # Subtest: old_style
                1..1
                ok 1 - case
            ok 1 - old_style
            """)
        self.assertEqual(r.problems(), [])
        self.assertEqual(r.cases[0].path, "old_style.case")

    def test_trailing_plan_is_accepted(self):
        r = parse("""
            KTAP version 1
            ok 1 a
            ok 2 b
            1..2
            """)
        self.assertEqual(r.problems(), [])


class BadDocuments(unittest.TestCase):
    def assertProblem(self, r, fragment):
        self.assertFalse(r.ok)
        self.assertTrue(any(fragment in p for p in r.problems()),
                        f"{fragment!r} not in {r.problems()}")

    def test_not_ok_fails(self):
        r = parse("""
            KTAP version 1
            1..2
            ok 1 a
            not ok 2 b
            """)
        self.assertProblem(r, "not ok 2 b")
        self.assertEqual((r.passed, r.failed), (1, 1))

    def test_nested_not_ok_names_the_case(self):
        r = parse(GOOD.replace("ok 2 - free", "not ok 2 - free"))
        self.assertProblem(r, "not ok 2 heap_basic.free")
        # The suite said ok although a case failed: still a failure.
        self.assertEqual(r.failed, 1)

    def test_suite_not_ok_with_passing_cases_fails(self):
        r = parse(GOOD.replace("ok 1 heap_basic", "not ok 1 heap_basic"))
        self.assertProblem(r, "not ok 1 heap_basic")

    def test_top_level_plan_mismatch(self):
        r = parse("""
            KTAP version 1
            1..5
            ok 1 a
            ok 2 b
            ok 3 c
            """)
        self.assertProblem(r, "KTAP plan 1..5 but 3 results")
        self.assertFalse(r.plan_complete)

    def test_nested_plan_mismatch(self):
        r = parse(GOOD.replace("1..3", "1..4"))
        self.assertProblem(r, "planned 4 got 3 in 'heap_basic'")

    def test_missing_header(self):
        r = parse("""
            1..1
            ok 1 a
            """)
        self.assertEqual(r.problems(), ["missing KTAP header"])
        self.assertFalse(r.found_header)

    def test_indented_header_is_not_the_document(self):
        r = parse("""
            1..1
                KTAP version 1
                1..1
                ok 1 a
            ok 1 suite
            """)
        self.assertEqual(r.problems(), ["missing KTAP header"])

    def test_missing_plan(self):
        r = parse("""
            KTAP version 1
            ok 1 a
            """)
        self.assertProblem(r, "missing KTAP plan")

    def test_duplicate_number(self):
        r = parse("""
            KTAP version 1
            1..3
            ok 1 a
            ok 1 b
            ok 2 c
            """)
        self.assertProblem(r, "duplicate test number 1")

    def test_out_of_order_number(self):
        r = parse("""
            KTAP version 1
            1..2
            ok 2 a
            ok 1 b
            """)
        self.assertProblem(r, "out-of-order test number 2")

    def test_subtest_cut_off_by_crash(self):
        r = parse("""
            KTAP version 1
            1..2
            ok 1 first
                KTAP version 1
                # Subtest: second
                1..3
                ok 1 a
            """)
        self.assertProblem(r, "subtest 'second' at depth 1 ended without "
                              "a result line")
        self.assertProblem(r, "KTAP plan 1..2 but 1 results")
        self.assertFalse(r.plan_complete)

    def test_second_document(self):
        r = parse("""
            KTAP version 1
            1..1
            ok 1 a
            KTAP version 1
            1..1
            ok 1 a
            """)
        self.assertProblem(r, "second top-level KTAP document")

    def test_not_ok_at_odd_indentation_is_not_lost(self):
        r = parse("""
            KTAP version 1
            1..1
              not ok 1 misplaced
            ok 1 a
            """)
        self.assertProblem(r, "unexpected indentation")

    def test_carriage_return_hides_not_ok(self):
        # A terminal shows "ok 1 a"; the line still said "not ok".
        r = ktap.parse(["KTAP version 1", "1..1", "not ok 1 a\rok 1 a"])
        self.assertFalse(r.ok, r.problems())
        r = ktap.parse(["KTAP version 1", "1..1", "ok 1 a\r   not ok"])
        self.assertFalse(r.ok, r.problems())

    def test_suite_with_plan_zero_is_not_a_pass(self):
        r = parse("""
            KTAP version 1
            1..2
                KTAP version 1
                # Subtest: empty
                1..0
            ok 1 empty
            ok 2 other
            """)
        self.assertProblem(r, "'empty' planned no cases")
        self.assertEqual(r.passed, 1)

    def test_unparsable_result_lines_fail_even_when_the_plan_is_met(self):
        for bad in ["not ok", "not ok - no number", "ok three", "ok\t2 b",
                    "not ok\t2 b", "\tnot ok 2 b", "  not ok 2 b",
                    "   ok 2 b", "ok 2b", "not  ok 2 b", "ok, 2 b"]:
            for lines in (["KTAP version 1", "1..1", bad, "ok 1 a"],
                          ["KTAP version 1", "1..1", "ok 1 a", bad]):
                with self.subTest(lines=lines):
                    r = ktap.parse(lines)
                    self.assertProblem(r, "unparsable result line")

    def test_word_ok_in_plain_text_is_not_a_result(self):
        r = ktap.parse(["KTAP version 1", "1..1", "okay, booting on",
                        "# ok here", "ok 1 a"])
        self.assertEqual(r.problems(), [])

    def test_bail_out(self):
        r = parse("""
            KTAP version 1
            1..2
            ok 1 a
            Bail out! heap corrupted
            """)
        self.assertProblem(r, "Bail out! heap corrupted")

    def test_nothing_ran(self):
        self.assertProblem(parse("KTAP version 1\n1..0"), "no KTAP results")
        r = parse("""
            KTAP version 1
            1..1
            ok 1 a # SKIP not built
            """)
        self.assertProblem(r, "no KTAP case ran (1 skipped)")

    def test_ktap_subtest_without_header(self):
        r = parse("""
            KTAP version 1
            1..1
                1..1
                ok 1 a
            ok 1 suite
            """)
        self.assertProblem(r, "has no KTAP version header")

    def test_unsupported_version(self):
        r = parse("""
            KTAP version 2
            1..1
            ok 1 a
            """)
        self.assertProblem(r, "unsupported KTAP version 2")


if __name__ == "__main__":
    unittest.main()
