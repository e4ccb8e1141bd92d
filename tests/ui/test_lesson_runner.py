"""The lesson runner follows a student through a lesson: steps checked live, "Show me", questions."""

from __future__ import annotations

import pytest

from convstudio.core.lessons import list_lessons
from convstudio.ui.lessons import LessonPicker, LessonRunner, LessonWindow

LESSONS = {lesson.number: lesson for lesson in list_lessons()}


def test_show_me_walks_a_lesson_to_its_questions(qtbot):
    runner = LessonRunner.standalone(LESSONS[2])
    qtbot.addWidget(runner)
    assert runner.current == 0 and "conv1 parameters is 320 (goal: = 832)" in runner.status.text()
    assert not runner.questions[0].isVisibleTo(runner)
    reached = []
    runner.stepReached.connect(reached.append)
    with qtbot.waitSignal(runner.finished):
        for _ in LESSONS[2].steps:
            runner.show_me()
    assert reached == [0, 1, 2, 3] and runner.done and not runner.show_button.isEnabled()
    assert "fc1" in runner.own_state.network
    box = runner.questions[0]
    assert box.isVisibleTo(runner)
    assert box.answer() is None and "Choose an answer" in box.verdict.text()
    box.group.button(0).setChecked(True)
    assert box.answer() is False and "Not quite" in box.verdict.text()
    box.group.button(box.question.answer).setChecked(True)
    assert box.answer() is True and "Right." in box.verdict.text() and "896" in box.verdict.text()


def test_pages_and_hints(qtbot):
    runner = LessonRunner.standalone(LESSONS[1])
    qtbot.addWidget(runner)
    assert runner.page_label.text() == "page 1 of 3" and not runner.prev_button.isEnabled()
    runner.next_page_button.click()
    assert "How big is the output" in runner.page_view.toPlainText()
    runner.hint_button.click()
    assert runner.status.text() == f"Hint: {LESSONS[1].steps[0].hint}"


def test_a_student_doing_the_steps_by_hand_is_followed(qtbot):
    window = LessonWindow(LESSONS[1])
    qtbot.addWidget(window)
    explorer = window.explorer
    assert explorer is not None and explorer.source_combo.currentText() == "Lesson grid"
    assert explorer.preset_combo.currentText() == "Sobel vertical edges"
    explorer.next_button.click()  # step 1: move the window to (0, 1)
    qtbot.waitUntil(lambda: window.runner.current == 1)
    explorer.sh_spin.setValue(2)
    qtbot.wait(20)
    assert window.runner.current == 1  # only half of step 2 done
    explorer.sw_spin.setValue(2)
    qtbot.waitUntil(lambda: window.runner.current == 2)
    explorer.padding_combo.setCurrentText("same")
    qtbot.waitUntil(lambda: window.runner.current == 3)
    window.network.set_param("conv1", "padding", "same")
    qtbot.waitUntil(lambda: window.runner.current == 4)
    window.runner.show_me()
    assert window.runner.done and window.network.block("conv1").params["stride_w"] == 2


def test_network_edits_go_through_the_given_editor(qtbot):
    lesson = LESSONS[5]
    network = lesson.load_network()
    edits = []

    def edit(action):
        edits.append(action["type"])
        from convstudio.core.lessons import apply_network_action

        apply_network_action(action, network)

    window = LessonWindow(lesson, network=network, edit_network=edit)
    qtbot.addWidget(window)
    assert window.explorer is None
    window.runner.show_me()  # opens wide in the explorer
    assert window.explorer is not None and window.explorer.explorer_state().block_id == "wide"
    qtbot.waitUntil(lambda: window.runner.current == 1)
    for _ in range(len(lesson.steps) - 1):
        window.runner.show_me()
    assert window.runner.done and edits == ["set_params", "add_after", "add_after"]
    window.close_lesson()
    network.set_param("stem", "filters", 8)  # no longer followed: nothing breaks


def test_the_picker_lists_the_course_in_order(qtbot):
    picker = LessonPicker()
    qtbot.addWidget(picker)
    numbers = [lesson.number for lesson in picker.lessons]
    assert numbers == sorted(numbers) and {1, 2, 5} <= set(numbers)
    picker.list.setCurrentRow(1)
    picker.accept()
    assert picker.chosen is picker.lessons[1]


@pytest.mark.parametrize("number", sorted(LESSONS))
def test_every_lesson_opens_in_a_window(qtbot, number):
    window = LessonWindow(LESSONS[number])
    qtbot.addWidget(window)
    assert window.runner.current == 0 and not window.runner.done


def test_goals_that_run_the_network_are_checked_off_the_gui_thread(qtbot):
    window = LessonWindow(LESSONS[6])
    qtbot.addWidget(window)
    runner = window.runner
    qtbot.waitUntil(lambda: not runner.checking, timeout=120_000)
    assert runner.current == 0 and "cannot be built" in runner.status.text()
    runner.show_me()  # units 10
    assert window.network.block("output").params["units"] == 10
    qtbot.waitUntil(lambda: runner.current == 1 and not runner.checking, timeout=120_000)
    assert "hand vs network" in runner.status.text()
    runner.show_me()  # linear output: the hand softmax equals the network's
    qtbot.waitUntil(lambda: runner.done, timeout=120_000)
    assert runner.questions[0].isVisibleTo(runner)


def test_an_answer_for_a_state_that_changed_meanwhile_is_dropped(qtbot):
    window = LessonWindow(LESSONS[6])
    qtbot.addWidget(window)
    runner = window.runner
    runner.refresh()
    stale = runner._generation
    window.network.set_param("output", "units", 10)
    runner.refresh()
    runner._checked(stale, (2, ""))  # an old answer arriving late changes nothing
    assert runner.current == 0
    qtbot.waitUntil(lambda: runner.current == 1 and not runner.checking, timeout=120_000)


def test_lesson_6_shows_the_softmax_by_hand_beside_the_network(qtbot):
    window = LessonWindow(LESSONS[6])
    qtbot.addWidget(window)
    assert window.numbers is not None and "cannot be run yet" in window.numbers.toPlainText()
    window.network.set_param("output", "units", 10)
    qtbot.waitUntil(lambda: "keras.losses" in window.numbers.toPlainText(), timeout=120_000)
    text = window.numbers.toPlainText()
    assert "z - max(z)" in text and "loss = -ln p[" in text and "By the network" in text
    other = LessonWindow(LESSONS[1])
    qtbot.addWidget(other)
    assert other.numbers is None
