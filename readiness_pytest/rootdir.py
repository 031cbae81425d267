"""The one place that leans on pytest's internals: finding the rootdir and ini file again once our options are known.

pytest finds its rootdir and ini file from the command line *before* it loads entry-point plugins
(``Config.parse`` in pytest 9), so in ``--tenants-dir /abs/path`` the unknown option's value is taken for a test
path: the rootdir became that folder (or ``/``) and the repository's ``pyproject.toml`` was never read. By
``pytest_load_initial_conftests`` the command line is parsed again with our options; if that parse finds another
ini file, this adopts it as ``Config.parse`` would have. ``tests/test_operator_options.py`` fails loudly when a pytest
upgrade changes any of the names used here.
"""

from __future__ import annotations

import copy

from _pytest.config.findpaths import determine_setup


def reread_setup(config, parser, args: list[str]) -> bool:
    """Adopt the rootdir and ini file the corrected command line names; True when they changed."""
    known = config.known_args_namespace
    rootpath, inipath, inicfg, _ = determine_setup(
        inifile=known.inifilename, override_ini=known.override_ini, args=known.file_or_dir,
        rootdir_cmd_arg=known.rootdir or None, invocation_dir=config.invocation_params.dir,
    )
    if inipath == config.inipath and rootpath == config.rootpath:
        return False
    config._unconfigure_python_path()
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    config._inicache.clear()
    parser.extra_info["rootdir"], parser.extra_info["inifile"] = str(rootpath), str(inipath)
    args[:] = config._validate_args(config.getini("addopts"), "via addopts config") + args
    config.known_args_namespace = known = parser.parse_known_args(args, namespace=copy.copy(config.option))
    known.confcutdir = str(inipath.parent if inipath is not None else rootpath)
    config._configure_python_path()
    return True
