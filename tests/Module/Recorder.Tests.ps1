# Pester 5: the kernel recorder's own checks (tests/Kernel/lib/test_*.py: the analyzer's drop and
# decapsulation attribution, the comparison, the namespace-name wrapper). They need no root and no
# network, only python3; the recorder writes the kernel.json files every scenario is judged against,
# so a change to it that breaks them fails here, not at the next recording.
BeforeDiscovery {
    $script:lib = Join-Path $PSScriptRoot '../Kernel/lib'
    $script:cases = @(Get-ChildItem $lib -Filter 'test_*.py' | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
    $script:python = Get-Command python3 -ErrorAction SilentlyContinue
}

Describe 'tests/Kernel/lib recorder checks' {
    It 'finds the checks' {
        @(Get-ChildItem (Join-Path $PSScriptRoot '../Kernel/lib') -Filter 'test_*.py').Count | Should -BeGreaterThan 3
    }
    It '<Name> passes' -ForEach $cases -Skip:(-not $python) {
        $out = & python3 $Path 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        ($out -join "`n") | Should -Match '\d+ passed, 0 failed'
    }
}
