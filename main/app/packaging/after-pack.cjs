// electron-builder afterPack hook: flips the Electron fuses of the packaged binary, so the
// shipped app cannot be turned into a general Node.js runtime or a debugging target.
//   RunAsNode off: ELECTRON_RUN_AS_NODE is ignored.
//   NODE_OPTIONS and --inspect arguments off: no code injection through the environment.
//   OnlyLoadAppFromAsar on: the app loads only from app.asar, never from a loose folder.
//   EmbeddedAsarIntegrityValidation on: Electron checks app.asar against the hash built into
//   the binary (Electron 45 enforces it on macOS and Windows; Linux ignores this fuse).
const { join } = require('node:path');
const { flipFuses, FuseV1Options, FuseVersion } = require('@electron/fuses');

/** Returns the path of the Electron binary inside the packed output. */
function electronBinary(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  switch (electronPlatformName) {
    case 'darwin':
    case 'mas':
      return join(appOutDir, `${packager.appInfo.productFilename}.app`);
    case 'win32':
      return join(appOutDir, `${packager.appInfo.productFilename}.exe`);
    default:
      return join(appOutDir, packager.executableName);
  }
}

exports.default = async function afterPack(context) {
  await flipFuses(electronBinary(context), {
    version: FuseVersion.V1,
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin',
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
  });
};
