// Nynorsk: words and phrases that signal acute danger (see ../acute.js for the format).
export default [
  // suicide
  "sjølvmord*", "ta livet mitt", "ta livet av meg", "ta mitt eige liv", "tek livet mitt",
  "tek livet av meg", "drepe meg sjølv", "drep meg sjølv",
  "vil døy", "vil berre døy", "har lyst til å døy", "lyst til å døy", "ønskjer å døy",
  "vil ikkje leve", "vil ikkje leve lenger", "orkar ikkje å leve", "orkar ikkje leve",
  "vil vere død", "betre om eg var død",
  // self-harm
  "kutte meg", "kuttar meg", "kutta meg", "skjere meg", "cutte meg", "cuttar meg",
  "skade meg sjølv", "skadar meg sjølv", "skada meg sjølv", "sjølvskad*",
  // violence or abuse now
  "han slår meg", "ho slår meg", "dei slår meg", "pappa slår meg", "mamma slår meg",
  "bankar meg", "blir slått", "vart slått", "vert slått", "valdteken",
  "valdtatt", "valdta*", "blir misbrukt", "vart misbrukt", "misbrukar meg", "mishandlar meg",
  "trugar med å drepe", "trugar meg", "vil drepe meg", "tør ikkje gå heim", "tør ikkje dra heim",
  "redd for å dra heim", "redd for å gå heim",
];
