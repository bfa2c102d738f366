"""Whose submission is it? Every download format, the roster, and names built to mislead (no grading here).

The formats are the ones Canvas, Blackboard and Moodle write (see course_utils/grading/matching.py);
grading of a real download, with the two misattributions of issue 17, is in test_grade_class.py.
"""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.grading import collect, matching

LESSON = "01-late-interaction-basics"


def touch(folder, *names, text="{}"):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def chosen(found) -> dict[str, str]:
    """{student: graded file, relative to the folder}."""
    return {s.student: str(s.path.relative_to(found.folder)) for s in found.submissions}


def roster_file(tmp_path, header, *ids, name="roster.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *ids]) + "\n")
    return matching.read_roster(path)


# ----- Blackboard: <assignment>_<username>_attempt_<timestamp>_<file> ------------------------------

def bb(user, stamp="2026-01-05-10-00-00", file=f"{LESSON}.ipynb", assignment=LESSON):
    return f"{assignment}_{user}_attempt_{stamp}_{file}"


def test_blackboard_usernames_with_underscores_are_two_students(tmp_path):
    """Issue 17: bob_smith and jane_smith both became `smith`."""
    folder = touch(tmp_path / "d", bb("bob_smith"), bb("jane_smith"), bb("ann"))
    found = collect.collect(folder, LESSON)
    assert chosen(found) == {"ann": bb("ann"), "bob_smith": bb("bob_smith"), "jane_smith": bb("jane_smith")}
    assert found.skipped == []


def test_blackboard_file_part_chosen_by_a_student_never_changes_the_student(tmp_path):
    """Issue 17: Mallory's upload named like a newer attempt of Alice's was graded as Alice's."""
    trick = bb("mallory", "2026-01-05-12-00-00", f"x_alice_attempt_2026-12-31-23-59-59_{LESSON}.ipynb")
    folder = touch(tmp_path / "d", bb("alice", "2026-01-05-11-00-00"), trick)
    found = collect.collect(folder, LESSON)
    assert chosen(found) == {"alice": bb("alice", "2026-01-05-11-00-00"), "mallory": trick}
    alone = collect.collect(touch(tmp_path / "only", trick), LESSON)  # even as the only file
    assert chosen(alone) == {"mallory": trick}


def test_blackboard_newest_attempt_is_graded_and_older_ones_reported(tmp_path):
    folder = touch(tmp_path / "d", bb("ann", "2026-01-05-10-00-00"), bb("ann", "2026-01-06-09-00-00", "Untitled.ipynb"))
    found = collect.collect(folder, LESSON)
    assert chosen(found) == {"ann": bb("ann", "2026-01-06-09-00-00", "Untitled.ipynb")}
    assert found.submissions[0].timestamp.isoformat() == "2026-01-06T09:00:00+00:00"
    assert dict(found.skipped) == {bb("ann", "2026-01-05-10-00-00"): "is an older attempt (the newest was graded)"}


def test_blackboard_assignment_name_with_underscores_and_the_receipts(tmp_path):
    folder = touch(tmp_path / "d", bb("ann", assignment="Lesson 1"), bb("bob_smith", assignment="Lesson 1"))
    found = collect.collect(folder, LESSON)  # the one assignment name both allow: "Lesson 1"
    assert set(chosen(found)) == {"ann", "bob_smith"}
    # `Lesson_1_bob_smith` alone could be user `1_bob_smith`, `bob_smith` or `smith`
    assignment = "Lesson_1"
    alone = touch(tmp_path / "alone", bb("bob_smith", assignment=assignment))
    found = collect.collect(alone, LESSON)
    assert found.submissions == [] and "give a roster" in found.skipped[0][1]
    # ... unless Blackboard's receipt for the attempt names the user
    receipt = bb("bob_smith", assignment=assignment, file="x")[: -len("_x")] + ".txt"
    (alone / receipt).write_text("Name: Bob Smith (bob_smith)\nAssignment: Lesson 1\n\nComments:\nName: X (smith)\n")
    found = collect.collect(alone, LESSON)
    assert set(chosen(found)) == {"bob_smith"} and found.skipped == []


def test_blackboard_with_a_roster_of_usernames(tmp_path):
    roster = roster_file(tmp_path, "Last Name,First Name,Username,Student ID", "Smith,Bob,bob_smith,1",
                         "Smith,Sam,smith,2", "Doe,Ann,ann,3")
    folder = touch(tmp_path / "d", bb("bob_smith"), bb("smith"), bb("eve"))
    found = collect.collect(folder, LESSON, roster)
    assert set(chosen(found)) == {"bob_smith", "smith"}
    assert "matches no student on the roster" in dict(found.skipped)[bb("eve")]


# ----- Canvas: <name>_[late_]<user id>_<attachment id>_<file> --------------------------------------

def test_canvas_names_late_files_and_user_ids(tmp_path):
    folder = touch(tmp_path / "d", f"smithbob_1001_5001_{LESSON}.ipynb", "doejane_late_1002_5002_nb.ipynb",
                   "smithbob_1001_5003_Untitled.ipynb", f"smith-jane-late_1003_5004_{LESSON}-1.ipynb")
    found = collect.collect(folder, LESSON)
    assert chosen(found) == {"1001": f"smithbob_1001_5001_{LESSON}.ipynb", "1002": "doejane_late_1002_5002_nb.ipynb",
                             "1003": f"smith-jane-late_1003_5004_{LESSON}-1.ipynb"}
    assert "another notebook of 1001" in dict(found.skipped)["smithbob_1001_5003_Untitled.ipynb"]


def test_canvas_file_part_that_imitates_another_student_changes_nothing(tmp_path):
    trick = f"mallorym_1009_5009_doealice_1001_5010_{LESSON}.ipynb"
    folder = touch(tmp_path / "d", f"doealice_1001_5001_{LESSON}.ipynb", trick,
                   f"eve_1010_5011_x_attempt_2026-12-31-23-59-59_{LESSON}.ipynb")
    found = collect.collect(folder, LESSON)
    assert chosen(found)["1009"] == trick and chosen(found)["1001"] == f"doealice_1001_5001_{LESSON}.ipynb"
    assert chosen(found)["1010"].startswith("eve_1010_")


def test_canvas_name_ending_in_digits_is_ambiguous_without_a_roster(tmp_path):
    name = f"smith_2_1001_5001_{LESSON}.ipynb"  # user 2, or user 1001 named `smith_2`
    found = collect.collect(touch(tmp_path / "d", name), LESSON)
    assert found.submissions == [] and "1001" in found.skipped[0][1] and "2" in found.skipped[0][1]
    roster = roster_file(tmp_path, "Student,ID,SIS User ID", '"Points Possible",,', "Smith 2,1001,s1")
    assert chosen(collect.collect(tmp_path / "d", LESSON, roster)) == {"1001": name}


# ----- Moodle: <Full Name>_<participant id>_assignsubmission_file_ ---------------------------------

def test_moodle_folders_and_flat_files(tmp_path):
    folder = touch(tmp_path / "d", f"Bob Smith_1234567_assignsubmission_file_/{LESSON}.ipynb",
                   "Jane Smith_1234568_assignsubmission_file_/work/Untitled.ipynb",
                   "Jane Smith_1234568_assignsubmission_onlinetext_/onlinetext.html")
    found = collect.collect(folder, LESSON)
    assert chosen(found) == {"1234567": f"Bob Smith_1234567_assignsubmission_file_/{LESSON}.ipynb",
                             "1234568": "Jane Smith_1234568_assignsubmission_file_/work/Untitled.ipynb"}
    assert "not a file submission" in dict(found.skipped)["Jane Smith_1234568_assignsubmission_onlinetext_/"]
    flat = touch(tmp_path / "flat", "Ann Lee_1234569_assignsubmission_file_Ann Lee_1_assignsubmission_file_x.ipynb")
    assert set(chosen(collect.collect(flat, LESSON))) == {"1234569"}


def test_moodle_roster_from_the_grading_worksheet(tmp_path):
    roster = roster_file(tmp_path, "Identifier,Full name,Email address", "Participant 1234567,Bob Smith,b@x")
    folder = touch(tmp_path / "d", f"Bob Smith_1234567_assignsubmission_file_/{LESSON}.ipynb",
                   f"Eve_7654321_assignsubmission_file_/{LESSON}.ipynb")
    found = collect.collect(folder, LESSON, roster)
    assert set(chosen(found)) == {"1234567"}
    assert "no student on the roster" in dict(found.skipped)["Eve_7654321_assignsubmission_file_/"]


# ----- nbgrader's layouts, zips, rosters ------------------------------------------------------------

def test_nbgrader_submitted_layout_and_zip_collect_archive_folder(tmp_path):
    submitted = touch(tmp_path / "submitted", f"ann/{LESSON}/{LESSON}.ipynb", f"bob/{LESSON}/{LESSON}.ipynb",
                      "ann/02-maxsim/02-maxsim.ipynb")
    assert chosen(collect.collect(submitted, LESSON)) == {"ann": f"ann/{LESSON}/{LESSON}.ipynb",
                                                          "bob": f"bob/{LESSON}/{LESSON}.ipynb"}
    archive = tmp_path / "downloaded" / LESSON / "archive"  # nbgrader zip_collect's default place
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "gradebook.zip", "w") as zipped:
        zipped.writestr(bb("bob_smith"), "{}")
        zipped.writestr(bb("ann"), "{}")
    found = collect.collect(archive, LESSON)
    try:
        assert set(chosen(found)) == {"ann", "bob_smith"}
        assert found.display(found.submissions[0].path).startswith("archive (zip files): ")
    finally:
        found.cleanup()
    assert not found.unpacked.exists()


def test_folder_students_are_checked_against_the_roster(tmp_path):
    roster = roster_file(tmp_path, "id", "ann")
    found = collect.collect(touch(tmp_path / "d", "ann/a.ipynb", "zed/a.ipynb"), LESSON, roster)
    assert set(chosen(found)) == {"ann"} and "no student on the roster" in dict(found.skipped)["zed/"]


def test_roster_files_of_each_system_and_bad_rosters(tmp_path):
    blackboard = tmp_path / "bb.xls"  # Grade Centre "Work Offline" download: UTF-16, tab separated
    blackboard.write_bytes("Last Name\tFirst Name\tUsername\tStudent ID\nSmith\tBob\tbob_smith\t77\n".encode("utf-16"))
    assert matching.read_roster(blackboard) == {"bob_smith"}
    assert roster_file(tmp_path, "ID;Name", "12;A", "13;B") == {"12", "13"}
    with pytest.raises(ValueError, match="column named"):
        roster_file(tmp_path, "name,email", "Bob,b@x")
    with pytest.raises(ValueError, match="appears twice"):
        roster_file(tmp_path, "id", "ann", "ann")
    with pytest.raises(ValueError, match="not a usable student id"):
        roster_file(tmp_path, "id", "../etc")
    with pytest.raises(ValueError, match="does not exist"):
        matching.read_roster(tmp_path / "missing.csv")


def test_a_file_matching_two_roster_students_is_reported(tmp_path):
    roster = roster_file(tmp_path, "username", "bob_smith", "smith")
    lone = touch(tmp_path / "d", bb("bob_smith", assignment="L_1"))  # assignment name unknown: L_1 or L_1_bob?
    found = collect.collect(lone, LESSON, roster)
    assert found.submissions == [] and "several students on the roster" in found.skipped[0][1]


_uploaded = st.text(st.characters(codec="ascii", exclude_characters="/\\\0"), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(files=st.lists(_uploaded, min_size=1, max_size=3))
def test_no_uploaded_file_name_changes_whose_submission_it_is(tmp_path_factory, files):
    """Whatever students name their uploads, each file goes to the student the system named, or to nobody."""
    folder = tmp_path_factory.mktemp("names")
    owners = {}
    for number, file in enumerate(files):
        for name, owner in ((bb(f"user{number}", file=f"{file}.ipynb"), f"user{number}"),
                            (f"name_{100 + number}_{900 + number}_{file}.ipynb", str(100 + number))):
            touch(folder, name)
            owners[name] = owner
    for sub in (folder,):
        found = collect.collect(sub, LESSON)
        for submission in found.submissions:
            assert owners[submission.path.name] == submission.student
