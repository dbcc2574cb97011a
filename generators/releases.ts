/**
 * What earlier releases wrote, for the projects that carry no manifest: 0.1.0 wrote none (the manifest
 * came with 0.2.0). Data, not code: a test checks it against __tests__/fixtures/project-0.1.0.json, a
 * project 0.1.0 generated (and the table was made from 0.1.0's own renderer, commit d8a04b2).
 */

export interface LegacyRelease {
  readonly version: string;
  /** What immutable.config.json's $schema said. */
  readonly schemaRef: string;
  /** Files the release wrote with the same bytes into every project, whatever the answers: path -> sha256. */
  readonly fixed: Readonly<Record<string, string>>;
  /** Of those, the ones written only with --dockerfile. */
  readonly dockerfileOnly: readonly string[];
  /**
   * Files it rendered from the answers ("{app}" = appName): owned, but what was written is known only
   * from git. The --dockerfile ones are in dockerfileOnly too.
   */
  readonly rendered: readonly string[];
  /** The subject of the commit its `git init` step made. */
  readonly initialCommit: string;
}

export const RELEASE_0_1_0: LegacyRelease = {
  version: "0.1.0",
  schemaRef: "./stacks/config.schema.json",
  fixed: {
    ".dockerignore": "d5e63ccdad743b6a10feca383ccb4711d0e9b6b7b2ec8b1e58ba24a95356c7e9",
    ".gitignore": "fbf4e3481704f0b00f6771c104878d08cf28721b108d7691ec2805ac9b8456d7",
    "__tests__/config.test.ts": "edc4b91d649a60c534ce4689342fefc92b2a94793ed6e42916dd4761d5ef19b8",
    "__tests__/stacks.test.ts": "ed6bebce62ce64d418ddef3932df6e8f5c1cb231c676c781133b914b7e70cdc8",
    "app/server.js": "c62f7c0ac3df5319be7d97403179afc34287104e8a2df0ffd71655841de548ca",
    "main.ts": "b95367e50f10c9ec3745a35729f5a366b7d0cb8ea9b07011c80185d221f9ee28",
    "packer/README.md": "9be822903eb09f5617ba095ce9d23dab8392c9e7107b63a8283b8ffbc7b66158",
    "packer/app.pkr.hcl": "0fc45cb2a277256f9654e8cb9370d2734f4ddc110d8a9eaa47860893a3c30745",
    "packer/files/app.service": "e872974cc762ec5d6fb0925e3c2e64a490a47355513bbdf59d7f153f3e51bc3e",
    "packer/files/configure-app.sh": "8ce0f9c18a094ce61270850dc39b8a9fddb099975801b54d3ead029bc54ad6c8",
    "packer/files/immutable-app-config@.service": "50951c28a07f2650557a4adc978a051ef9530ae5145d142b656c4ff969c72820",
    "packer/files/immutable-app.logrotate": "5c00ae7bf3deade9fa0e06efb4acef96084ab697a9496b26563276c54675f64f",
    "packer/scripts/cleanup.sh": "9ecd187a69050947ca57a70f9386e13766f4616109db998a2e2c8b6013de7892",
    "packer/scripts/harden.sh": "7e8203ef87e78d339422dd92045be5df9008503e011780aa3772f4f8ca18d215",
    "packer/scripts/install-app.sh": "65463c80eec5e0b6676976ec07b47f061e5a23d83162ec40861881c1b37bbbd1",
    "packer/scripts/install-runtime.sh": "48621075f503c9608605dd887fe062f2b1766924334dc3c8be667ce9534854de",
    "packer/scripts/publish-ami-id.sh": "8843318cdacb837c46266a2ad0a9b9881608cc1956b5a75641c8bef0458c19e0",
    "packer/scripts/test-image.sh": "79510ca06270139fc99e3d507b0bb3055adb83e866facfff6eb006c8b283c2bf",
    "packer/variables.pkr.hcl": "152d10d3bdfdf7060a397f9eca9ff4f9339b9ed0d0969b661a1f70344bba5f66",
    "packer/versions.pkr.hcl": "24643b18979d282931c57c33163c519d7e40f517235566ac3fcd1c27673485e7",
    "scripts/export.ts": "045d2dc4508246efd1291bbe03b4ce7d25fadb8061d4488f25d14f29d0f2b0c2",
    "scripts/export/args.ts": "b00087417f2ac6b04a4fcc45ab28043e4d1618302d0e12d0b01e3038b178b00a",
    "scripts/export/errors.ts": "1ff6ea96ed064895e5e51e93e7183867c5d9161db9b6107c1afbab318181f102",
    "scripts/export/hcl.ts": "7c650b32653b1ab010879fea55b19f0f3bc06aac35ab3b52370bbabe352b3dda",
    "scripts/export/layout.ts": "77a0dc51ae64a3a477891f3e2cc745ef804f81d40300c3906da0601a96012a4a",
    "scripts/export/readme.ts": "05d33efcc9d7074ae39b97cf3904435056c68dd4b96fde2f611c5c3e25f25c2f",
    "scripts/export/run.ts": "b6d83bb6932d80422b4c95e2361ee1d976e90e941c26b76a2623010522f5cea1",
    "scripts/export/synth.ts": "7dc8746c350f69a549f7ea690c6d7244423deceea09ffb00c36a0dd8a6746459",
    "scripts/export/write.ts": "f5e861d88826999ea521727adda99188148fe9ae9611c951ced24960a761d371",
    "scripts/pkrvars.ts": "255a95e2ba30d6777e202b09b2e25adf2e58c3992f25f8c50da4f9d1661c401b",
    "stacks/app.ts": "e6283d010dd82b8a0d7e3e2495ec0c9ed1e812acca8d90eb656f03418f8554bf",
    "stacks/aws-rules.ts": "da1cfddfefaebf4f89342a12b1ce950093dd95f6ec7ab1597d0e6bf690dc97ea",
    "stacks/backend.ts": "f3a27475e7ebf6b22cd38f27531d41385759f093f1493b1cc0ecc92805d7870c",
    "stacks/cidr.ts": "eefcd44c8de4939dc43db5f38494b7b7469785188d9b8eb03843f55ebd1dcfbe",
    "stacks/config-validation.ts": "086d44053be53d523792a4e87c9559a635ee03795ed1b2cf4603fa32c6bd39c1",
    "stacks/config.schema.json": "636b68713ec9f57ae5bda134cd0cec7ef305a3da1d7e12f586e7961b721013cc",
    "stacks/config.ts": "151998d5187da82bc809d439ff8a6a3542e8a7df7a33f7d037e218a61cd5148c",
    "stacks/escape.ts": "003af00928b4e3cb7b18623c5a005d71686f0cdb02f29887b3b25c90709b1ca1",
    "stacks/fleet.ts": "c8852eb2188cd5a509bfacc63722a044cfb21054db8d53b711c6c3a2fc948321",
    "stacks/hcl.ts": "a424cac8ca9f848bf7f630674a1fd5c58bfb4be43b4cffb8664897b9c74506ee",
    "stacks/json-reader.ts": "8e28594ad8fca0c0215cb17593ae6b8d9123014f890e24967a096b50c3aef10d",
    "stacks/load-balancer.ts": "ec5370bc655003153363987603c460c64d17bdd5a26654f3a5025b374edee273",
    "stacks/load-config.ts": "68257482fe52a5110593c250522dc4e5098fcc5828404d8d137cc38dd6b7068b",
    "stacks/names.ts": "0d56ea96896080e2db7987a159aba3cd701ee3dd52f51b32fab90d8fcb6d2f65",
    "stacks/network.ts": "fd13bc1c01b0dc4d9a3f142090b637cb6cb699596ccc3d01c907cee5a7fa2154",
    "stacks/packer-vars.ts": "8fb0f62753537b6396af8e8e0d162ca335b9cd2a60e68259d96429418b9f2f03",
    "stacks/parameters.ts": "7aa33333a7f6ffbc235e91b9be5a9ef5a8290a335cde7a644b9328690739443f",
    "stacks/user-data.ts": "e826613f915b742cc1f827c37b2dd5b5da97a23fd30a344529adad5de0bd91cb",
    "stacks/web-tier-stack.ts": "44d480d09e6a0a9317aa585b3d70640e6cc751cd606f1cccb80872f1d05f1cdc",
    "tsconfig.json": "ae56fb14bfdc6989f0e6eedb0fd2863dca9d7bbc2ef97e4f57c086a0bfa202f9",
  },
  dockerfileOnly: [".dockerignore", "app/server.js", "Dockerfile", "app/package.json"],
  rendered: [
    ".github/workflows/ci.yml",
    ".github/workflows/drift.yml",
    "README.md",
    "cdktf.json",
    "package.json",
    "packer/{app}.auto.pkrvars.hcl",
    "Dockerfile",
    "app/package.json",
  ],
  initialCommit: "Initial commit from create-immutable-app",
};
