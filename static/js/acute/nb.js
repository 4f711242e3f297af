// Bokmål: words and phrases that signal acute danger (see ../acute.js for the format).
export default [
  // suicide
  "selvmord*", "ta livet mitt", "ta livet av meg", "ta mitt eget liv", "tar livet mitt",
  "tar livet av meg", "drepe meg", "drepe meg selv", "dreper meg selv",
  "vil dø", "vil bare dø", "har lyst til å dø", "lyst til å dø", "ønsker å dø",
  "vil ikke leve", "vil ikke leve lenger", "orker ikke å leve", "orker ikke leve",
  "henge meg", "hoppe foran toget", "ta en overdose", "overdose*",
  "vil være død", "bedre om jeg var død",
  // self-harm
  "kutte meg", "kutter meg", "kuttet meg", "skjære meg", "skjærer meg", "cutte meg", "cutter meg",
  "skade meg selv", "skader meg selv", "skadet meg selv", "selvskad*",
  // violence or abuse now
  "han slår meg", "hun slår meg", "de slår meg", "pappa slår meg", "mamma slår meg",
  "banker meg", "blir slått", "ble slått", "voldtatt", "voldta*",
  "blir misbrukt", "ble misbrukt", "misbruker meg", "mishandler meg", "blir mishandlet",
  "truer med å drepe", "truer meg", "vil drepe meg", "tør ikke gå hjem", "tør ikke dra hjem",
  "redd for å dra hjem", "redd for å gå hjem",
];
