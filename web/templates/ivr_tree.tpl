% if other_problems:
<ul class="problems" role="alert" aria-label="{{_('Problems with the flow set')}}">
  % for message in other_problems:
  <li>{{message}}</li>
  % end
</ul>
% end
<section aria-labelledby="h-routes" class="flow-tree">
  <h2 id="h-routes">{{_('Where the call-flow routes lead')}}</h2>
  % if not routes:
  <p class="help">{{_('No route: no call reaches the flows.')}}</p>
  % end
  <ul class="flow-routes">
  % for route, tree in routes:
    <li><span class="route">{{_('Route')}} <strong>{{route.get('name') or _('(unnamed)')}}</strong>: {{_('number called {did}, caller {caller}, priority {priority}', did=route.get('did') or _('any'), caller=route.get('caller') or _('any'), priority=route.get('priority', 10))}} →</span>
      % include('ivr_branch.tpl', node=tree)
    </li>
  % end
  </ul>
  % if orphans:
  <h2>{{_('Nodes no route reaches')}}</h2>
  <ul class="flow-routes">
    % for tree in orphans:
    <li>
      % include('ivr_branch.tpl', node=tree)
    </li>
    % end
  </ul>
  % end
</section>
