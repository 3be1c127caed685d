import { MemoryJournal } from "../../../src/persistence/memory_journal.ts";
import { testJournalContract } from "../../_contracts/journal_contract.ts";

testJournalContract(
  "MemoryJournal",
  () => Promise.resolve(new MemoryJournal()),
);
