def test_help_lists_commands(run_cli):
    r = run_cli('--help')
    assert r.returncode == 0
    assert 'demo' in r.stdout

def test_no_command_prints_help_and_fails(run_cli):
    r = run_cli()
    assert r.returncode == 1
    assert 'usage: ediffiqa' in r.stdout

def test_unknown_command_is_an_error(run_cli):
    r = run_cli('no-such-command')
    assert r.returncode == 2
    assert 'invalid choice' in r.stderr
