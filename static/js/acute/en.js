// English: words and phrases that signal acute danger (see ../acute.js for the format).
export default [
  // suicide
  "suicid*", "kill myself", "killing myself", "kms", "end my life", "ending my life",
  "take my own life", "take my life", "want to die", "wanna die", "going to die tonight",
  "want to be dead", "better off dead", "don't want to live", "do not want to live",
  "dont want to live", "hang myself", "overdose*",
  // self-harm
  "cut myself", "cutting myself", "hurt myself", "hurting myself", "harm myself",
  "harming myself", "self harm*", "selfharm*",
  // violence or abuse now
  "he hits me", "she hits me", "they hit me", "dad hits me", "mum hits me", "mom hits me",
  "he beats me", "she beats me", "beat me up", "being abused", "abusing me", "abuses me", "raped",
  "rape me", "raping me", "threatening to kill", "going to kill me", "wants to kill me",
  "scared to go home", "afraid to go home",
];
