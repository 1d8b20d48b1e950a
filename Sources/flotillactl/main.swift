import FlotillaCTL

await Flotillactl.runAsRoot()
