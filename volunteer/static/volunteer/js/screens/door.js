// screens/door: one door: one-tap results (not home first), and for a person the survey, support level and a note; undo for a while.

import { formatTime, localized, t } from "../i18n.js";
import { buildingAddress } from "../model.js";
import * as geo from "../geo.js";
import * as outbox from "../outbox.js";
import * as sync from "../sync.js";
import { busy, h, toast } from "../ui.js";

export async function render(ctx, { assignmentId, doorId }) {
  const { assignment, door, index } = await sync.doorFromPhone(assignmentId, doorId);
  if (!door) {
    ctx.navigate(assignment ? `#/walk/${assignmentId}` : "#/today");
    return h("p", {}, t("loading"));
  }
  geo.watch();
  const codes = orderedCodes(assignment.result_codes);
  const last = door.last_result;
  const lastCode = last && assignment.result_codes.find((code) => code.code === last.result_code);

  // One knock at a time from this door: a second tap (the same code or another) while the first is
  // being saved does nothing. A flag, not a disabled button: changing the button would make the
  // browser draw the door again while IndexedDB commits, and the tap's confirmation waits for that.
  let saving = false;
  const save = async (draft, label) => {
    if (saving) return;
    saving = true;
    try {
      await saveKnock(draft, label);
    } catch (error) {
      toast(t("error", { detail: error.message }));
    } finally {
      saving = false;
    }
  };
  const saveKnock = async (draft, label) => {
    const position = geo.current();
    const [knock] = await outbox.recordKnocks([
      { door: door.id, assignment: assignment.id, person: null, support_level: null, answers: {}, notes: "", ...draft, ...(position || {}) },
    ]);
    ctx.setLastDoor(assignment.id, door.id, knock.doorAfter);
    ctx.backToList(assignment.id);
    sync.knockRecorded(); // the status count and the send after Undo's window; the screen does not wait
    toast(t("saved", { result: label }), {
      ms: outbox.UNDO_MS,
      action: {
        label: t("undo"),
        run: async () => {
          const undone = await outbox.undoKnocks([knock.id]);
          await sync.refreshCounts();
          toast(undone ? t("undone") : t("alreadySent"));
          ctx.doorsChanged([door.id]);
        },
      },
    });
  };

  const results = h(
    "div.result-grid",
    { role: "group", "aria-label": t("result") },
    codes.map((code) => {
      const button = h("button.result", { type: "button", "data-code": code.code }, localized(code, "label"));
      button.addEventListener("click", () => save({ result: code.code }, localized(code, "label")));
      return button;
    }),
  );

  const panel = h("div.survey-panel");
  const contactCode = assignment.result_codes.find((code) => code.code === "canvassed") || assignment.result_codes.find((code) => code.is_contact);
  const openSurvey = (person) => {
    panel.replaceChildren(surveyForm(assignment, person, contactCode, save));
    panel.querySelector("legend, h3")?.scrollIntoView({ block: "start" });
  };
  const peopleButtons = door.people.map((person) =>
    h("button.person", { type: "button", "data-person": person.id, onclick: () => openSurvey(person) }, t("talkTo", { name: `${person.first_name} ${person.last_name}` })),
  );
  const title = door.unit ? `${buildingAddress(door)}, ${door.unit_type || "#"} ${door.unit}` : door.address;
  return h(
    "section.screen-door",
    { "data-door": door.id, tabindex: "-1" },
    h("a.back", { href: `#/walk/${assignment.id}` }, `← ${t("back")}`),
    h("p.muted", {}, t("doorOf", { n: index + 1, total: assignment.doorIds.length })),
    h("h1", {}, title),
    h("p.last", {}, last ? t("lastResult", { result: lastCode ? localized(lastCode, "label") : last.result_code, when: formatTime(last.at) }) : t("neverKnocked")),
    h("h2", {}, t("people")),
    door.people.length ? h("div.people", {}, peopleButtons) : h("p", {}, t("nobodyListed")),
    contactCode ? h("button.person", { type: "button", onclick: () => openSurvey(null) }, t("someoneHere")) : null,
    panel,
    h("h2", {}, t("result")),
    results,
  );
}

/** Not home first, then the organization's order. */
function orderedCodes(codes) {
  return [...codes].sort((a, b) => (a.code === "not_home" ? -1 : b.code === "not_home" ? 1 : 0));
}

function surveyForm(assignment, person, contactCode, save) {
  const fields = assignment.script.map((question) =>
    h(
      "fieldset.question",
      { "data-question": question.id },
      h("legend", {}, localized(question, "text")),
      question.options.map((option) =>
        h(
          "label.choice",
          {},
          h("input", { type: "radio", name: `q${question.id}`, value: String(option.id) }),
          h("span", {}, localized(option, "label")),
        ),
      ),
    ),
  );
  const support = h(
    "fieldset.question.support",
    {},
    h("legend", {}, t("support")),
    t("supportLevels").map((label, i) =>
      h("label.choice", {}, h("input", { type: "radio", name: "support", value: String(i + 1) }), h("span", {}, `${i + 1} · ${label}`)),
    ),
  );
  const notes = h("textarea#notes", { name: "notes", rows: "3", maxlength: "2000" });
  const submit = h("button.primary.wide", { type: "submit" }, t("saveContact"));
  const label = localized(contactCode, "label");
  const form = h(
    "form.survey",
    {
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const answers = {};
        for (const question of assignment.script) {
          const value = data.get(`q${question.id}`);
          if (value) answers[String(question.id)] = Number(value);
        }
        const level = data.get("support");
        busy(submit, () =>
          save(
            {
              person: person ? person.id : null,
              result: contactCode.code,
              answers,
              support_level: level ? Number(level) : null,
              notes: String(data.get("notes") || "").trim(),
            },
            label,
          ),
        );
      },
    },
    h("h3", {}, person ? `${person.first_name} ${person.last_name}` : t("someoneHere")),
    fields,
    support,
    h("label", { for: "notes" }, t("notes")),
    notes,
    h("div.actions", {}, submit),
  );
  return form;
}
